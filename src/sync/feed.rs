//! The sync feed.
//!
//! A first sync (no cursor) pages through the caller's whole current view,
//! kind by kind in [`SyncKind::ALL`] order, as each kind's scope in the
//! policy admits it (the same SQL conditions the lists use). It then
//! continues from the change log's head as it was when the first page was
//! read. The change log numbers changes in commit order (its sequence is
//! taken under the lock that orders the audit chain and held until the
//! commit), so a cursor on it never skips a change that committed late.
//!
//! An incremental page reads the next changes and sends each changed
//! record the caller may see now. A change to a patron, a case (its team,
//! owner or branch) or a consent can move other records of that patron into
//! or out of view, so every record of such a patron is checked again: the
//! ones that came into view are sent, and the ones the device holds that
//! left it come back as removals (tombstones: kind and id only). What each
//! device holds is kept per session (`sync_holding`), so a device hears of
//! removals only of what it had. A change to the caller's own account
//! (role, branches) resets the copy: the device starts again without a
//! cursor.
//!
//! Each page that sends or removes anything is one unit of work: the
//! holdings it changes and its audit event (the ids sent and their
//! patrons) commit together.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Condition, Expr, ExprTrait, Query, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    access::{self, Actor},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    casework::{cases::CaseView, scope},
    domain::{RecordKind, Sensitivity, SyncKind},
    error::{ServiceError, ServiceResult},
    paging::Cursor,
    state::AppState,
    support::requests::{self, SupportRequestRecord},
};
use chrono::{DateTime, Utc};
use entities::{
    break_glass, case_file, case_note, change_log, consent, contact, follow_up, mandated_report,
    patron, referral, referral_event, service, sync_holding,
};

/// Records per page when the caller gives no limit.
pub const DEFAULT_LIMIT: u64 = 500;
/// The largest page: a first sync of a 300-case caseload takes a few.
pub const MAX_LIMIT: u64 = 2_000;
/// Changes read per incremental page.
pub const CHANGES_PER_PAGE: u64 = 1_000;

/// One record of the caller's view, as its kind's read shows it.
pub struct Item {
    pub kind: SyncKind,
    pub id: Uuid,
    pub patron: Option<Uuid>,
    pub body: Body,
    /// Seen only through the caller's open break-glass grant: recorded
    /// under that rule too, for auditors to review.
    pub glass: bool,
}

pub enum Body {
    Service(service::Model),
    Patron(patron::Model),
    Case(CaseView),
    Note(case_note::Model),
    Contact(contact::Model),
    Consent(consent::Model),
    Referral(referral::Model, Vec<referral_event::Model>),
    FollowUp(follow_up::Model),
    MandatedReport(mandated_report::Model),
    SupportRequest(SupportRequestRecord),
}

pub struct FeedPage {
    pub items: Vec<Item>,
    /// Records the device held that left the caller's view.
    pub removed: Vec<(SyncKind, Uuid)>,
    /// Where the next page starts; absent when the copy must start again.
    pub next_cursor: Option<String>,
    /// More is waiting: ask again at once with `next_cursor`.
    pub more: bool,
    /// The caller's own account changed: drop the copy and sync afresh.
    pub reset: bool,
}

/// Where a device is in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Sending the current view: which kind, after which id, and the change
    /// log's head when it began.
    Full {
        head: i64,
        kind: usize,
        after: Option<Uuid>,
    },
    /// Following the change log after `seq`.
    Changes { seq: i64 },
}

impl Position {
    fn encode(self) -> String {
        match self {
            Position::Full { head, kind, after } => Cursor {
                k: format!("f:{head}:{kind}"),
                id: after.unwrap_or(Uuid::nil()),
            },
            Position::Changes { seq } => Cursor {
                k: format!("c:{seq}"),
                id: Uuid::nil(),
            },
        }
        .encode()
    }

    /// The change log's sequence the device's copy is current to.
    fn since(self) -> i64 {
        match self {
            Position::Full { head, .. } => head,
            Position::Changes { seq } => seq,
        }
    }

    fn decode(raw: &str) -> ServiceResult<Position> {
        let bad = || ServiceError::invalid("cursor", "must be a next_cursor from a previous page");
        let c = Cursor::decode(Some(raw))?.ok_or_else(bad)?;
        let parts: Vec<&str> = c.k.split(':').collect();
        match parts.as_slice() {
            ["f", head, kind] => {
                let kind: usize = kind.parse().map_err(|_| bad())?;
                if kind > SyncKind::ALL.len() {
                    return Err(bad());
                }
                Ok(Position::Full {
                    head: head.parse().map_err(|_| bad())?,
                    kind,
                    after: Some(c.id).filter(|id| !id.is_nil()),
                })
            }
            ["c", seq] => Ok(Position::Changes {
                seq: seq.parse().map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }
}

/// Which rows of a kind a page reads.
enum Pick<'a> {
    /// The next `limit` in id order after `after`.
    After(Option<Uuid>, u64),
    /// These records, and every record about these patrons.
    Ids {
        ids: &'a [Uuid],
        patrons: &'a [Uuid],
    },
}

impl Pick<'_> {
    /// `select` narrowed to the pick, for a kind about no patron.
    fn apply<E: EntityTrait>(&self, select: Select<E>, id: E::Column) -> Select<E> {
        self.apply_about(select, id, |_| Expr::val(1).eq(0))
    }

    /// `select` narrowed to the pick; `about` is the kind's condition for
    /// "about these patrons".
    fn apply_about<E: EntityTrait>(
        &self,
        select: Select<E>,
        id: E::Column,
        about: impl FnOnce(Vec<Uuid>) -> SimpleExpr,
    ) -> Select<E> {
        match self {
            Pick::After(after, limit) => {
                let mut s = select;
                if let Some(a) = after {
                    s = s.filter(id.gt(*a));
                }
                s.order_by_asc(id).limit(*limit)
            }
            Pick::Ids { ids, patrons } => {
                let mut any = Condition::any().add(id.is_in(ids.iter().copied()));
                if !patrons.is_empty() {
                    any = any.add(about(patrons.to_vec()));
                }
                select.filter(any).order_by_asc(id)
            }
        }
    }
}

/// What a pick found of one kind: the records the caller may see, how many
/// rows were read, and the last id read (a page of notes may read more
/// than it sends).
struct Found {
    items: Vec<Item>,
    read: usize,
    last: Option<Uuid>,
}

impl Found {
    fn of(items: Vec<Item>) -> Found {
        Found {
            read: items.len(),
            last: items.last().map(|i| i.id),
            items,
        }
    }
}

fn item(kind: SyncKind, id: Uuid, patron: Option<Uuid>, body: Body) -> Item {
    Item {
        kind,
        id,
        patron,
        body,
        glass: false,
    }
}

/// The records of `kind` that `pick` names and `actor` may see.
async fn fetch(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
    kind: SyncKind,
    pick: &Pick<'_>,
) -> ServiceResult<Found> {
    use SyncKind as K;
    Ok(match kind {
        K::Service => {
            if !access::read_directory(actor).is_allowed() {
                return Ok(Found::of(Vec::new()));
            }
            let rows = pick
                .apply(service::Entity::find(), service::Column::Id)
                .all(db)
                .await?;
            Found::of(
                rows.into_iter()
                    .map(|s| item(kind, s.id, None, Body::Service(s)))
                    .collect(),
            )
        }
        K::Patron => {
            let scope = access::patron_scope(actor);
            let rows = pick
                .apply_about(
                    patron::Entity::find().filter(scope::condition(
                        RecordKind::Patron,
                        &scope,
                        actor,
                    )),
                    patron::Column::Id,
                    |ps| patron::Column::Id.is_in(ps),
                )
                .all(db)
                .await?;
            Found::of(
                rows.into_iter()
                    .map(|p| item(kind, p.id, Some(p.id), Body::Patron(p)))
                    .collect(),
            )
        }
        K::Case => {
            let scope = access::case_scope(actor);
            let rows = pick
                .apply_about(
                    case_file::Entity::find().filter(scope::condition_at(
                        RecordKind::Case,
                        &scope,
                        actor,
                        now,
                    )),
                    case_file::Column::Id,
                    |ps| case_file::Column::PatronId.is_in(ps),
                )
                .all(db)
                .await?;
            let mut items = Vec::with_capacity(rows.len());
            let all_facts = scope::case_facts_many(db, actor, &rows, now).await?;
            for (case, facts) in rows.into_iter().zip(all_facts) {
                if let Ok(g) = scope.admits(&facts.facts(actor)) {
                    let mut it = item(
                        kind,
                        case.id,
                        Some(case.patron_id),
                        Body::Case(CaseView {
                            team: facts.team,
                            view: g.view,
                            case,
                        }),
                    );
                    it.glass = g.rule == access::BREAK_GLASS;
                    items.push(it);
                }
            }
            Found::of(items)
        }
        K::CaseNote => notes(db, actor, now, pick).await?,
        K::Contact => {
            let scope = access::contact_scope(actor);
            let rows = pick
                .apply_about(
                    contact::Entity::find().filter(scope::condition(
                        RecordKind::Contact,
                        &scope,
                        actor,
                    )),
                    contact::Column::Id,
                    |ps| contact::Column::PatronId.is_in(ps),
                )
                .all(db)
                .await?;
            Found::of(
                rows.into_iter()
                    .map(|c| item(kind, c.id, c.patron_id, Body::Contact(c)))
                    .collect(),
            )
        }
        K::Consent => {
            // A patron's consents go by the patron's facts.
            let scope = access::consent_scope(actor);
            let patrons = Query::select()
                .column(patron::Column::Id)
                .from(patron::Entity)
                .cond_where(scope::condition(RecordKind::Patron, &scope, actor))
                .to_owned();
            let rows = pick
                .apply_about(
                    consent::Entity::find().filter(consent::Column::PatronId.in_subquery(patrons)),
                    consent::Column::Id,
                    |ps| consent::Column::PatronId.is_in(ps),
                )
                .all(db)
                .await?;
            Found::of(
                rows.into_iter()
                    .map(|c| item(kind, c.id, Some(c.patron_id), Body::Consent(c)))
                    .collect(),
            )
        }
        K::Referral => {
            let scope = access::referral_scope(actor);
            let rows = pick
                .apply_about(
                    referral::Entity::find().filter(scope::condition(
                        RecordKind::Referral,
                        &scope,
                        actor,
                    )),
                    referral::Column::Id,
                    |ps| referral::Column::PatronId.is_in(ps),
                )
                .all(db)
                .await?;
            let mut history: BTreeMap<Uuid, Vec<referral_event::Model>> = BTreeMap::new();
            for e in referral_event::Entity::find()
                .filter(referral_event::Column::ReferralId.is_in(rows.iter().map(|r| r.id)))
                .order_by_asc(referral_event::Column::RecordedAt)
                .order_by_asc(referral_event::Column::Id)
                .all(db)
                .await?
            {
                history.entry(e.referral_id).or_default().push(e);
            }
            Found::of(
                rows.into_iter()
                    .map(|r| {
                        let h = history.remove(&r.id).unwrap_or_default();
                        item(kind, r.id, Some(r.patron_id), Body::Referral(r, h))
                    })
                    .collect(),
            )
        }
        K::FollowUp => {
            let scope = access::follow_up_scope(actor);
            let rows = pick
                .apply_about(
                    follow_up::Entity::find().filter(scope::condition(
                        RecordKind::FollowUp,
                        &scope,
                        actor,
                    )),
                    follow_up::Column::Id,
                    |ps| follow_up::Column::PatronId.is_in(ps),
                )
                .all(db)
                .await?;
            Found::of(
                rows.into_iter()
                    .map(|f| item(kind, f.id, f.patron_id, Body::FollowUp(f)))
                    .collect(),
            )
        }
        K::MandatedReport => {
            let scope = access::mandated_report_scope(actor);
            let rows = pick
                .apply_about(
                    mandated_report::Entity::find().filter(scope::condition(
                        RecordKind::MandatedReport,
                        &scope,
                        actor,
                    )),
                    mandated_report::Column::Id,
                    |ps| mandated_report::Column::PatronId.is_in(ps),
                )
                .all(db)
                .await?;
            Found::of(
                rows.into_iter()
                    .map(|r| item(kind, r.id, Some(r.patron_id), Body::MandatedReport(r)))
                    .collect(),
            )
        }
        K::SupportRequest => {
            let rows = match pick {
                Pick::After(after, limit) => {
                    requests::visible(db, actor, None, *after, *limit).await?
                }
                Pick::Ids { ids: [], .. } => Vec::new(),
                Pick::Ids { ids, .. } => {
                    requests::visible(db, actor, Some(ids), None, ids.len() as u64).await?
                }
            };
            Found::of(
                rows.into_iter()
                    .map(|r| item(kind, r.request.id, None, Body::SupportRequest(r)))
                    .collect(),
            )
        }
    })
}

/// Notes of the cases the caller may see, each as the policy decides for
/// its case and sensitivity (restricted notes never reach a peer).
async fn notes(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
    pick: &Pick<'_>,
) -> ServiceResult<Found> {
    let scope = access::case_scope(actor);
    let cases = Query::select()
        .column(case_file::Column::Id)
        .from(case_file::Entity)
        .cond_where(scope::condition_at(RecordKind::Case, &scope, actor, now))
        .to_owned();
    let rows = pick
        .apply_about(
            case_note::Entity::find().filter(case_note::Column::CaseId.in_subquery(cases)),
            case_note::Column::Id,
            |ps| {
                case_note::Column::CaseId.in_subquery(
                    Query::select()
                        .column(case_file::Column::Id)
                        .from(case_file::Entity)
                        .and_where(Expr::col(case_file::Column::PatronId).is_in(ps))
                        .to_owned(),
                )
            },
        )
        .all(db)
        .await?;
    let read = rows.len();
    let last = rows.last().map(|n| n.id);
    // The notes' cases and their facts, a page at a time.
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|n| n.case_id)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut cases = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        cases.extend(
            case_file::Entity::find()
                .filter(case_file::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    let all_facts = scope::case_facts_many(db, actor, &cases, now).await?;
    let facts: BTreeMap<Uuid, _> = cases
        .iter()
        .zip(all_facts)
        .map(|(c, f)| (c.id, (c.patron_id, f)))
        .collect();
    let mut items = Vec::with_capacity(rows.len());
    for note in rows {
        let Some((patron, f)) = facts.get(&note.case_id) else {
            continue;
        };
        let sensitivity = Sensitivity::parse(&note.sensitivity).unwrap_or(Sensitivity::Restricted);
        let decision = access::read_note(actor, f, sensitivity);
        if decision.is_allowed() {
            let mut it = item(SyncKind::CaseNote, note.id, Some(*patron), Body::Note(note));
            it.glass = decision.rule() == access::BREAK_GLASS;
            items.push(it);
        }
    }
    Ok(Found { items, read, last })
}

/// Whether the caller keeps an offline copy (and uploads what it did
/// offline); a refusal is audited.
pub async fn admit(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
) -> ServiceResult<&'static str> {
    let ctx = AuditContext::for_actor(actor, meta);
    crate::unit::allowed(
        state,
        &ctx,
        access::sync(actor),
        Action::Sync,
        RecordKind::Case,
    )
    .await
}

/// Whether the caller's own account changed after `seq`.
async fn account_changed_since(
    db: &impl ConnectionTrait,
    staff_id: Uuid,
    seq: i64,
) -> ServiceResult<bool> {
    Ok(change_log::Entity::find()
        .filter(change_log::Column::RecordId.eq(staff_id))
        .filter(change_log::Column::Kind.eq(RecordKind::Staff.as_str()))
        .filter(change_log::Column::Seq.gt(seq))
        .one(db)
        .await?
        .is_some())
}

/// One page of the feed for the caller's device.
pub async fn page(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> ServiceResult<FeedPage> {
    let ctx = AuditContext::for_actor(actor, meta);
    let db = &state.db;
    let position = cursor.map(Position::decode).transpose()?;
    let mut out = FeedPage {
        items: Vec::new(),
        removed: Vec::new(),
        next_cursor: None,
        more: false,
        reset: false,
    };
    // Before any other check: a copy made before the caller's own account
    // changed (branches; a role change ends the session) starts again.
    if let Some(p) = position
        && account_changed_since(db, actor.staff_id, p.since()).await?
    {
        out.reset = true;
        return Ok(out);
    }
    let rule = admit(state, actor, meta).await?;
    let now = state.clock.now();
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let (position, fresh) = match position {
        Some(p) => (p, false),
        None => (
            Position::Full {
                head: crate::db::change_head(db).await?,
                kind: 0,
                after: None,
            },
            true,
        ),
    };
    match position {
        Position::Full {
            head,
            mut kind,
            mut after,
        } => {
            while (out.items.len() as u64) < limit && kind < SyncKind::ALL.len() {
                let want = limit - out.items.len() as u64;
                let found = fetch(
                    db,
                    actor,
                    now,
                    SyncKind::ALL[kind],
                    &Pick::After(after, want),
                )
                .await?;
                out.items.extend(found.items);
                if (found.read as u64) < want {
                    kind += 1;
                    after = None;
                } else {
                    after = found.last;
                }
            }
            out.more = kind < SyncKind::ALL.len();
            out.next_cursor = Some(if out.more {
                Position::Full { head, kind, after }.encode()
            } else {
                Position::Changes { seq: head }.encode()
            });
        }
        Position::Changes { seq } => {
            let changes = change_log::Entity::find()
                .filter(change_log::Column::Seq.gt(seq))
                .order_by_asc(change_log::Column::Seq)
                .limit(CHANGES_PER_PAGE)
                .all(db)
                .await?;
            out.more = changes.len() as u64 == CHANGES_PER_PAGE;
            let next = changes.last().map_or(seq, |c| c.seq);
            out.next_cursor = Some(Position::Changes { seq: next }.encode());
            // What a break-glass grant put on the device leaves it when the
            // grant ends, which no change records: its patrons are checked
            // again on every page.
            let glass = glass_patrons_held(db, actor).await?;
            if changes.is_empty() && glass.is_empty() {
                return Ok(out);
            }
            changed_page(db, actor, now, &changes, glass, &mut out).await?;
        }
    }
    settle(state, &ctx, rule, actor, fresh, &out).await?;
    Ok(out)
}

/// The page for a run of changes: what changed and is visible, what came
/// into view with it, and what the device held that left the view.
async fn changed_page(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
    changes: &[change_log::Model],
    glass: Vec<Uuid>,
    out: &mut FeedPage,
) -> ServiceResult<()> {
    let mut changed: BTreeMap<SyncKind, BTreeSet<Uuid>> = BTreeMap::new();
    let mut grants = Vec::new();
    for c in changes {
        if let Some(k) = SyncKind::parse(&c.kind) {
            changed.entry(k).or_default().insert(c.record_id);
        } else if c.kind == RecordKind::BreakGlass.as_str() {
            grants.push(c.record_id);
        }
    }
    // A grant the caller opened brings its case (and, through the case's
    // patron, its notes) into view.
    if !grants.is_empty() {
        let cases = break_glass::Entity::find()
            .select_only()
            .column(break_glass::Column::CaseId)
            .filter(break_glass::Column::Id.is_in(grants))
            .filter(break_glass::Column::SupervisorId.eq(actor.staff_id))
            .into_tuple::<Uuid>()
            .all(db)
            .await?;
        changed.entry(SyncKind::Case).or_default().extend(cases);
    }
    let ids = |k: SyncKind| -> Vec<Uuid> {
        changed
            .get(&k)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    };
    // Changes that can move a patron's other records into or out of view.
    let mut touched: BTreeSet<Uuid> = ids(SyncKind::Patron).into_iter().collect();
    touched.extend(
        case_file::Entity::find()
            .select_only()
            .column(case_file::Column::PatronId)
            .filter(case_file::Column::Id.is_in(ids(SyncKind::Case)))
            .into_tuple::<Uuid>()
            .all(db)
            .await?,
    );
    touched.extend(
        consent::Entity::find()
            .select_only()
            .column(consent::Column::PatronId)
            .filter(consent::Column::Id.is_in(ids(SyncKind::Consent)))
            .into_tuple::<Uuid>()
            .all(db)
            .await?,
    );
    touched.extend(glass);
    let touched: Vec<Uuid> = touched.into_iter().collect();
    let mut visible: BTreeSet<(SyncKind, Uuid)> = BTreeSet::new();
    let mut found = Vec::new();
    for kind in SyncKind::ALL.iter().copied() {
        let kind_ids = ids(kind);
        let pick = Pick::Ids {
            ids: &kind_ids,
            patrons: &touched,
        };
        for it in fetch(db, actor, now, kind, &pick).await?.items {
            visible.insert((it.kind, it.id));
            found.push(it);
        }
    }
    // What the device holds among the changed records and touched patrons.
    let all_changed: Vec<Uuid> = changed.values().flatten().copied().collect();
    let mut held: BTreeSet<(SyncKind, Uuid)> = BTreeSet::new();
    let mut holdings = sync_holding::Entity::find()
        .filter(sync_holding::Column::SessionId.eq(actor.session_id))
        .filter(sync_holding::Column::RecordId.is_in(all_changed))
        .all(db)
        .await?;
    if !touched.is_empty() {
        holdings.extend(
            sync_holding::Entity::find()
                .filter(sync_holding::Column::SessionId.eq(actor.session_id))
                .filter(sync_holding::Column::PatronId.is_in(touched.iter().copied()))
                .all(db)
                .await?,
        );
    }
    for h in holdings {
        if let Some(k) = SyncKind::parse(&h.kind) {
            held.insert((k, h.record_id));
        }
    }
    out.items = found
        .into_iter()
        .filter(|it| {
            changed.get(&it.kind).is_some_and(|s| s.contains(&it.id))
                || !held.contains(&(it.kind, it.id))
        })
        .collect();
    out.removed = held.difference(&visible).copied().collect();
    Ok(())
}

/// The patrons of the cases this device holds outside the caller's branches:
/// a supervisor holds such a case only through a break-glass grant.
async fn glass_patrons_held(db: &impl ConnectionTrait, actor: &Actor) -> ServiceResult<Vec<Uuid>> {
    if !access::may_break_glass(actor).is_allowed() {
        return Ok(Vec::new());
    }
    let held = Query::select()
        .column(sync_holding::Column::RecordId)
        .from(sync_holding::Entity)
        .and_where(Expr::col(sync_holding::Column::SessionId).eq(actor.session_id))
        .and_where(Expr::col(sync_holding::Column::Kind).eq(SyncKind::Case.as_str()))
        .to_owned();
    Ok(case_file::Entity::find()
        .select_only()
        .column(case_file::Column::PatronId)
        .filter(case_file::Column::Id.in_subquery(held))
        .filter(case_file::Column::BranchId.is_not_in(actor.branches.clone()))
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// Records what the page sent and removed in the device's holdings, and
/// audits it, in one unit of work. A page that moves nothing writes nothing.
async fn settle(
    state: &AppState,
    ctx: &AuditContext,
    rule: &'static str,
    actor: &Actor,
    fresh: bool,
    out: &FeedPage,
) -> ServiceResult<()> {
    if !fresh && out.items.is_empty() && out.removed.is_empty() {
        return Ok(());
    }
    let session = actor.session_id;
    let sent: Vec<sync_holding::ActiveModel> = out
        .items
        .iter()
        .map(|it| sync_holding::ActiveModel {
            session_id: Set(session),
            kind: Set(it.kind.as_str().to_owned()),
            record_id: Set(it.id),
            patron_id: Set(it.patron),
        })
        .collect();
    let removed = out.removed.clone();
    let ev = ctx
        .event(Action::Sync, Outcome::Allowed, rule)
        .query(if fresh {
            r#"{"sync":"first"}"#
        } else {
            r#"{"sync":"next"}"#
        })
        .patrons(out.items.iter().filter_map(|it| it.patron))
        .results(out.items.iter().map(|it| it.id).collect());
    // Each record sent through a break-glass grant is also a read under
    // that rule, flagged for auditors as an online read of it would be.
    let glass: Vec<_> = out
        .items
        .iter()
        .filter(|it| it.glass)
        .map(|it| {
            let (kind, fields) = match it.kind {
                SyncKind::CaseNote => (RecordKind::CaseNote, crate::casework::notes::FIELDS),
                _ => (RecordKind::Case, crate::casework::cases::FIELDS),
            };
            ctx.event(Action::Read, Outcome::Allowed, access::BREAK_GLASS)
                .record(kind, it.id)
                .patron(it.patron)
                .fields(fields)
        })
        .collect();
    state
        .recorder
        .run(ctx.clone(), move |u| {
            Box::pin(async move {
                if fresh {
                    sync_holding::Entity::delete_many()
                        .filter(sync_holding::Column::SessionId.eq(session))
                        .exec(u.txn())
                        .await?;
                }
                for (kind, id) in removed {
                    sync_holding::Entity::delete_many()
                        .filter(sync_holding::Column::SessionId.eq(session))
                        .filter(sync_holding::Column::Kind.eq(kind.as_str()))
                        .filter(sync_holding::Column::RecordId.eq(id))
                        .exec(u.txn())
                        .await?;
                }
                for chunk in sent.chunks(500) {
                    sync_holding::Entity::insert_many(chunk.iter().cloned())
                        .on_conflict_do_nothing()
                        .exec_without_returning(u.txn())
                        .await?;
                }
                u.record(ev);
                u.record_all(glass);
                Ok(())
            })
        })
        .await
}
