//! Casework: patrons, contacts, cases and notes, consents, follow-ups,
//! referrals, mandated reports, statistics, the offline copy and
//! break-glass.
//!
//! Only peers, social workers and supervisors ever reach casework records.
//! Every other role is denied before any row is loaded, and the services
//! answer such a denial exactly as they answer a record that does not exist.
//!

use uuid::Uuid;

use super::{Actor, Decision, Facts, Scope, Term, View};
use crate::domain::{Role, Sensitivity};

pub fn patron_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Peer => Scope::of(
            actor,
            &[
                (Mine, "peer_own_or_team_patron"),
                (Team, "peer_own_or_team_patron"),
            ],
            "patron_out_of_scope",
        ),
        Role::SocialWorker => Scope::of(
            actor,
            &[
                (Mine, "worker_own_or_team_patron"),
                (Team, "worker_own_or_team_patron"),
                (Branch, "worker_branch_patron"),
            ],
            "patron_out_of_scope",
        ),
        Role::Supervisor => Scope::of(
            actor,
            &[(Branch, "supervisor_branch_patron")],
            "patron_out_of_scope",
        ),
        _ => Scope::nothing(),
    }
}

pub fn contact_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Peer => Scope::of(actor, &[(Mine, "peer_own_contact")], "contact_out_of_scope"),
        Role::SocialWorker => Scope::of(
            actor,
            &[
                (Mine, "worker_own_or_team_contact"),
                (Team, "worker_own_or_team_contact"),
            ],
            "contact_out_of_scope",
        ),
        Role::Supervisor => Scope::of(
            actor,
            &[(Branch, "supervisor_branch_contact")],
            "contact_out_of_scope",
        ),
        _ => Scope::nothing(),
    }
}

/// Cases: peers see the summary of the cases they are on the team of.
pub fn case_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Peer => Scope::of(
            actor,
            &[(Team, "peer_team_case_summary")],
            "case_out_of_scope",
        )
        .viewed(View::Summary),
        Role::SocialWorker => Scope::of(
            actor,
            &[(Team, "worker_own_or_team_case")],
            "case_out_of_scope",
        ),
        Role::Supervisor => Scope::of(
            actor,
            &[(Branch, "supervisor_branch_case"), (Glass, BREAK_GLASS)],
            "case_out_of_scope",
        ),
        _ => Scope::nothing(),
    }
}

pub fn follow_up_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Peer => Scope::of(
            actor,
            &[(Mine, "peer_own_follow_up")],
            "follow_up_out_of_scope",
        ),
        Role::SocialWorker => Scope::of(
            actor,
            &[
                (Mine, "worker_own_or_team_follow_up"),
                (Team, "worker_own_or_team_follow_up"),
            ],
            "follow_up_out_of_scope",
        ),
        Role::Supervisor => Scope::of(
            actor,
            &[
                (Mine, "supervisor_branch_follow_up"),
                (Branch, "supervisor_branch_follow_up"),
            ],
            "follow_up_out_of_scope",
        ),
        _ => Scope::nothing(),
    }
}

/// Whether the `team` fact of a patron can change any decision made on a
/// patron's facts: the patron scope's, the consent scope's (a patron's
/// consents are decided on the patron), and those tested beside them
/// (`create_referral`, `manage_consents`, `update_patron`). Loaders skip the
/// team query only when none of them can use it;
/// `patron_facts_need_the_team_wherever_a_decision_on_them_does` checks
/// this against the plain answer with the team looked up.
pub fn patron_facts_need_team(actor: &Actor, f: &Facts) -> bool {
    patron_scope(actor).needs_team(f) || consent_scope(actor).needs_team(f)
}

/// A patron's consents, decided on the patron's facts.
pub fn consent_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Peer => Scope::of(
            actor,
            &[(Team, "peer_reads_team_consents")],
            "consent_out_of_scope",
        ),
        Role::SocialWorker => Scope::of(
            actor,
            &[
                (Team, "worker_reads_own_or_team_consents"),
                (Mine, "worker_reads_own_or_team_consents"),
            ],
            "consent_out_of_scope",
        ),
        Role::Supervisor => Scope::of(
            actor,
            &[(Branch, "supervisor_reads_branch_consents")],
            "consent_out_of_scope",
        ),
        _ => Scope::nothing(),
    }
}

/// Referrals: peers read the ones they made and those of their team's
/// cases; social workers their own and their team's; supervisors their
/// branches'. A referral's facts: `mine` is who made it, `team` its case's
/// team (or, without a case, any case team of its patron), its branch the
/// case's (or the patron's home branch).
pub fn referral_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Peer => Scope::of(
            actor,
            &[
                (Mine, "peer_own_or_team_referral"),
                (Team, "peer_own_or_team_referral"),
            ],
            "referral_out_of_scope",
        ),
        Role::SocialWorker => Scope::of(
            actor,
            &[
                (Mine, "worker_own_or_team_referral"),
                (Team, "worker_own_or_team_referral"),
            ],
            "referral_out_of_scope",
        ),
        Role::Supervisor => Scope::of(
            actor,
            &[(Branch, "supervisor_branch_referral")],
            "referral_out_of_scope",
        ),
        _ => Scope::nothing(),
    }
}

/// A case a request names beside a patron (a referral's, a mandated
/// report's): one the caller can read, belonging to that patron.
pub fn case_of_patron(actor: &Actor, case: &Facts, same_patron: bool) -> Decision {
    match case_scope(actor).admits(case) {
        Ok(g) if same_patron => Decision::Allow(g.rule),
        Ok(_) => Decision::Deny("case_of_another_patron"),
        Err(d) => d,
    }
}

/// The referral moves only its requester may make (`entered_in_error`).
pub fn requester_move(r: &Facts) -> Decision {
    if r.mine {
        Decision::Allow("requester_moves_own_referral")
    } else {
        Decision::Deny("referral_requester_only")
    }
}

/// Making a referral for a patron the caller can see: peers only on a case
/// whose team they are on; social workers for their own or team's patrons;
/// supervisors in their branches.
pub fn create_referral(actor: &Actor, patron: &Facts, case: Option<&Facts>) -> Decision {
    match actor.role {
        Role::Peer if case.is_some_and(|c| c.team) => Decision::Allow("peer_refers_on_team_case"),
        Role::Peer => Decision::Deny("peer_refers_on_team_cases_only"),
        Role::SocialWorker if case.map_or(patron.mine || patron.team, |c| c.team) => {
            Decision::Allow("worker_refers_own_or_team")
        }
        Role::Supervisor if actor.in_branch(case.map_or(patron.branch, |c| c.branch)) => {
            Decision::Allow("supervisor_refers_in_branch")
        }
        Role::SocialWorker | Role::Supervisor => Decision::Deny("referral_patron_out_of_scope"),
        _ => Decision::Deny("casework_roles_only"),
    }
}

/// Changing or moving a referral in the caller's scope: peers only the ones
/// they made; social workers and supervisors any they can read.
pub fn change_referral(actor: &Actor, r: &Facts) -> Decision {
    match actor.role {
        Role::Peer if r.mine => Decision::Allow("peer_moves_own_referral"),
        Role::Peer => Decision::Deny("peer_moves_own_referrals_only"),
        _ => referral_scope(actor).decide(r),
    }
}

/// A branch's overdue referrals: supervisors of that branch.
pub fn branch_referral_oversight(actor: &Actor, branch: Uuid) -> Decision {
    match actor.role {
        Role::Supervisor if actor.in_branch(branch) => {
            Decision::Allow("supervisor_branch_referral")
        }
        Role::Supervisor => Decision::Deny("referral_branch_out_of_scope"),
        _ => Decision::Deny("supervisors_only"),
    }
}

/// Mandated reports, the most restricted record: their author and the
/// supervisors of the branch, nobody else (not even the case team).
pub fn mandated_report_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::SocialWorker => Scope::of(
            actor,
            &[(Mine, "author_reads_own_mandated_report")],
            "mandated_report_out_of_scope",
        ),
        Role::Supervisor => Scope::of(
            actor,
            &[(Branch, "supervisor_reads_branch_mandated_report")],
            "mandated_report_out_of_scope",
        ),
        _ => Scope::nothing(),
    }
}

/// Writing a mandated report: social workers, about a patron they can see.
pub fn create_mandated_report(actor: &Actor) -> Decision {
    match actor.role {
        Role::SocialWorker => Decision::Allow("worker_writes_mandated_report"),
        _ => Decision::Deny("mandated_report_writer_is_a_social_worker"),
    }
}

/// Changing one: its author only.
pub fn change_mandated_report(actor: &Actor, r: &Facts) -> Decision {
    match actor.role {
        Role::SocialWorker if r.mine => Decision::Allow("author_changes_mandated_report"),
        _ => Decision::Deny("mandated_report_author_only"),
    }
}

/// Program statistics (no personal data): supervisors for their branches
/// (`Some`), admins for all (`None`).
pub fn program_statistics(actor: &Actor) -> (Decision, Option<Vec<Uuid>>) {
    match actor.role {
        Role::Supervisor => (
            Decision::Allow("supervisor_branch_statistics"),
            Some(actor.branches.clone()),
        ),
        Role::Admin => (Decision::Allow("admin_all_statistics"), None),
        _ => (Decision::Deny("statistics_supervisors_and_admins"), None),
    }
}

/// Facts about a case that decide access to it and to what hangs off it.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub owner: Uuid,
    /// Current team members besides the owner.
    pub team: Vec<Uuid>,
    pub branch: Uuid,
    /// The caller's open break-glass grant to the case, if any: `Some(true)`
    /// when it includes the restricted notes.
    pub glass: Option<bool>,
}

/// Whether a supervisor's break-glass grant to a case can change any
/// decision on it: only outside the supervisor's branches (inside them the
/// branch grants every read first). Loaders skip the grant query otherwise;
/// `a_grant_matters_only_outside_the_supervisors_branches` checks it.
pub fn case_needs_glass(actor: &Actor, branch: Uuid) -> bool {
    actor.role == Role::Supervisor && !actor.in_branch(branch)
}

impl CaseFacts {
    fn owned_by(&self, a: &Actor) -> bool {
        self.owner == a.staff_id
    }
    fn member(&self, a: &Actor) -> bool {
        self.team.contains(&a.staff_id)
    }

    /// The case as a record in scope: its team is the owner and the members.
    pub fn facts(&self, a: &Actor) -> Facts {
        Facts {
            mine: self.owned_by(a),
            team: self.owned_by(a) || self.member(a),
            branch: self.branch,
            glass: self.glass.is_some(),
        }
    }
}

pub fn create_patron(actor: &Actor, home_branch: Uuid) -> Decision {
    match actor.role {
        Role::Peer | Role::SocialWorker if actor.in_branch(home_branch) => {
            Decision::Allow("casework_creates_patron_in_own_branch")
        }
        Role::Peer | Role::SocialWorker => Decision::Deny("patron_branch_not_callers"),
        _ => Decision::Deny("casework_roles_only"),
    }
}

/// The refusal of a patron's move to a branch that is not the caller's.
pub const PATRON_MOVE_REFUSED: Decision = Decision::Deny("patron_move_outside_own_branches");

/// Supervisors update their branches' patrons, and move a patron only to
/// another of their own branches.
pub fn update_patron(actor: &Actor, p: &Facts, new_home: Option<Uuid>) -> Decision {
    match actor.role {
        Role::Supervisor if actor.in_branch(p.branch) => match new_home {
            Some(b) if !actor.in_branch(b) => PATRON_MOVE_REFUSED,
            _ => Decision::Allow("supervisor_updates_branch_patron"),
        },
        _ => Decision::Deny("patron_update_supervisor_only"),
    }
}

pub fn create_contact(actor: &Actor, branch: Uuid) -> Decision {
    match actor.role {
        Role::Peer | Role::SocialWorker if actor.in_branch(branch) => {
            Decision::Allow("casework_logs_contact_in_own_branch")
        }
        Role::Peer | Role::SocialWorker => Decision::Deny("contact_branch_not_callers"),
        _ => Decision::Deny("casework_roles_only"),
    }
}

/// Only the worker who logged a contact corrects it.
pub fn update_contact(actor: &Actor, c: &Facts) -> Decision {
    match actor.role {
        Role::Peer | Role::SocialWorker if c.mine => Decision::Allow("author_updates_own_contact"),
        _ => Decision::Deny("contact_update_author_only"),
    }
}

/// Whether the caller's role opens cases at all: asked before the patron is
/// looked at.
pub fn opens_cases(actor: &Actor) -> Decision {
    match actor.role {
        Role::SocialWorker => Decision::Allow("worker_opens_cases"),
        _ => Decision::Deny("case_open_worker_only"),
    }
}

pub fn open_case(actor: &Actor, branch: Uuid) -> Decision {
    match actor.role {
        Role::SocialWorker if actor.in_branch(branch) => {
            Decision::Allow("worker_opens_case_in_own_branch")
        }
        Role::SocialWorker => Decision::Deny("case_branch_not_callers"),
        _ => Decision::Deny("case_open_worker_only"),
    }
}

pub fn read_case(actor: &Actor, c: &CaseFacts) -> Decision {
    case_scope(actor).decide(&c.facts(actor))
}

/// Changing a case's summary, closing and reopening it.
pub fn update_case(actor: &Actor, c: &CaseFacts) -> Decision {
    match actor.role {
        Role::SocialWorker if c.owned_by(actor) || c.member(actor) => {
            Decision::Allow("worker_updates_own_or_team_case")
        }
        Role::Supervisor if actor.in_branch(c.branch) => {
            Decision::Allow("supervisor_updates_branch_case")
        }
        _ => Decision::Deny("case_update_not_allowed"),
    }
}

/// Adding and removing team members: the owner, or a supervisor of the branch.
pub fn manage_case_team(actor: &Actor, c: &CaseFacts) -> Decision {
    match actor.role {
        Role::SocialWorker if c.owned_by(actor) => Decision::Allow("owner_manages_team"),
        Role::Supervisor if actor.in_branch(c.branch) => {
            Decision::Allow("supervisor_manages_branch_team")
        }
        _ => Decision::Deny("team_owner_or_supervisor_only"),
    }
}

/// Who can be put on a case team: active peers, social workers and supervisors.
pub fn may_join_case_team(role: Role) -> bool {
    matches!(role, Role::Peer | Role::SocialWorker | Role::Supervisor)
}

/// Who can own a case: social workers.
pub fn may_own_case(role: Role) -> bool {
    role == Role::SocialWorker
}

pub fn reassign_case(actor: &Actor, c: &CaseFacts) -> Decision {
    match actor.role {
        Role::Supervisor if actor.in_branch(c.branch) => {
            Decision::Allow("supervisor_reassigns_branch_case")
        }
        _ => Decision::Deny("reassign_supervisor_only"),
    }
}

pub fn write_note(actor: &Actor, c: &CaseFacts, sensitivity: Sensitivity) -> Decision {
    match (actor.role, sensitivity) {
        (Role::Peer, Sensitivity::Standard) if c.member(actor) => {
            Decision::Allow("peer_writes_team_note")
        }
        (Role::SocialWorker, Sensitivity::Standard) if c.owned_by(actor) || c.member(actor) => {
            Decision::Allow("worker_writes_own_or_team_note")
        }
        (Role::SocialWorker, Sensitivity::Restricted) if c.owned_by(actor) => {
            Decision::Allow("owner_writes_restricted_note")
        }
        _ => Decision::Deny("note_write_not_allowed"),
    }
}

pub fn read_note(actor: &Actor, c: &CaseFacts, sensitivity: Sensitivity) -> Decision {
    match (actor.role, sensitivity) {
        (Role::Peer, Sensitivity::Standard) if c.member(actor) => {
            Decision::Allow("peer_reads_team_note")
        }
        (Role::SocialWorker, Sensitivity::Standard) if c.owned_by(actor) || c.member(actor) => {
            Decision::Allow("worker_reads_own_or_team_note")
        }
        (Role::SocialWorker, Sensitivity::Restricted) if c.owned_by(actor) => {
            Decision::Allow("owner_reads_restricted_note")
        }
        (Role::Supervisor, _) if actor.in_branch(c.branch) => {
            Decision::Allow("supervisor_reads_branch_note")
        }
        // Through an open break-glass grant: standard notes, and restricted
        // ones only when the grant includes them.
        (Role::Supervisor, Sensitivity::Standard) if c.glass.is_some() => {
            Decision::Allow(BREAK_GLASS)
        }
        (Role::Supervisor, Sensitivity::Restricted) if c.glass == Some(true) => {
            Decision::Allow(BREAK_GLASS)
        }
        _ => Decision::Deny("note_out_of_scope"),
    }
}

/// The sensitivities of a case's notes the caller may see in a list (and
/// count): restricted notes are not even counted for anyone else.
pub fn visible_note_sensitivities(actor: &Actor, c: &CaseFacts) -> Vec<Sensitivity> {
    Sensitivity::ALL
        .iter()
        .copied()
        .filter(|s| read_note(actor, c, *s).is_allowed())
        .collect()
}

/// A note may correct only an earlier note of the same case that the caller
/// can read.
pub fn amend_note(actor: &Actor, c: &CaseFacts, target: Option<Sensitivity>) -> Decision {
    match target {
        Some(s) if read_note(actor, c, s).is_allowed() => Decision::Allow("amends_readable_note"),
        _ => Decision::Deny("amended_note_out_of_scope"),
    }
}

/// Recording and revoking consents: a social worker on the patron's case team
/// (or who recorded the patron).
pub fn manage_consents(actor: &Actor, p: &Facts) -> Decision {
    match actor.role {
        Role::SocialWorker if p.team || p.mine => {
            Decision::Allow("worker_manages_own_or_team_consents")
        }
        _ => Decision::Deny("consent_write_worker_only"),
    }
}

pub fn read_follow_up(actor: &Actor, f: &Facts) -> Decision {
    follow_up_scope(actor).decide(f)
}

/// Setting a follow-up on a record the caller can read; marking one done
/// follows the read rule.
pub fn create_follow_up(actor: &Actor, parent_readable: bool) -> Decision {
    match actor.role {
        Role::Peer | Role::SocialWorker | Role::Supervisor if parent_readable => {
            Decision::Allow("follow_up_on_readable_record")
        }
        Role::Peer | Role::SocialWorker | Role::Supervisor => {
            Decision::Deny("follow_up_parent_out_of_scope")
        }
        _ => Decision::Deny("casework_roles_only"),
    }
}

/// Keeping an offline copy (the sync feed): the roles that work on the
/// floor with tablets. What the copy holds is each kind's scope.
pub fn sync(actor: &Actor) -> Decision {
    match actor.role {
        Role::Peer | Role::SocialWorker | Role::Supervisor => {
            Decision::Allow("casework_offline_copy")
        }
        _ => Decision::Deny("sync_casework_roles_only"),
    }
}

/// The rule under which a supervisor's open break-glass grant admits a case
/// and its notes; every access under it is flagged for auditors.
pub const BREAK_GLASS: &str = "break_glass";

/// The refusal of a grant to a case the supervisor already reaches.
pub const ALREADY_IN_SCOPE: &str = "case_already_in_scope";

/// Whether the caller's role may break glass at all: decided before the
/// case is looked up, so that every other role gets the same answer for a
/// real case as for a missing one.
pub fn may_break_glass(actor: &Actor) -> Decision {
    match actor.role {
        Role::Supervisor => Decision::Allow("supervisor_breaks_glass"),
        _ => Decision::Deny("break_glass_supervisors_only"),
    }
}

/// Opening a break-glass grant to a case: supervisors only, and only to a
/// case outside their scope (inside it they need none).
pub fn break_glass(actor: &Actor, case: &Facts) -> Decision {
    match actor.role {
        Role::Supervisor
            if case_scope(actor)
                .admits(&Facts {
                    glass: false,
                    ..*case
                })
                .is_ok() =>
        {
            Decision::Deny(ALREADY_IN_SCOPE)
        }
        Role::Supervisor => Decision::Allow("supervisor_breaks_glass"),
        _ => Decision::Deny("break_glass_supervisors_only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::testing::*;

    #[test]
    fn patron_facts_need_the_team_wherever_a_decision_on_them_does() {
        let branch = Uuid::now_v7();
        for role in Role::ALL {
            let mut a = actor(role);
            a.branches = vec![branch];
            for bits in 0..4u8 {
                let f = Facts {
                    glass: false,
                    mine: bits & 1 != 0,
                    team: false,
                    branch: if bits & 2 != 0 {
                        branch
                    } else {
                        Uuid::now_v7()
                    },
                };
                if !patron_facts_need_team(&a, &f) {
                    let t = Facts { team: true, ..f };
                    for scope in [patron_scope(&a), consent_scope(&a)] {
                        assert_eq!(scope.decide(&f), scope.decide(&t), "{role:?} {f:?}");
                    }
                    assert_eq!(create_referral(&a, &f, None), create_referral(&a, &t, None));
                    assert_eq!(manage_consents(&a, &f), manage_consents(&a, &t));
                    assert_eq!(update_patron(&a, &f, None), update_patron(&a, &t, None));
                }
            }
        }
    }

    #[test]
    fn a_grant_matters_only_outside_the_supervisors_branches() {
        let branch = Uuid::now_v7();
        for role in Role::ALL {
            let mut a = actor(role);
            a.branches = vec![branch];
            for (owner, team) in [(a.staff_id, vec![]), (Uuid::now_v7(), vec![a.staff_id])]
                .into_iter()
                .chain([(Uuid::now_v7(), vec![])])
            {
                for case_branch in [branch, Uuid::now_v7()] {
                    let plain = CaseFacts {
                        owner,
                        team: team.clone(),
                        branch: case_branch,
                        glass: None,
                    };
                    if case_needs_glass(&a, plain.branch) {
                        continue;
                    }
                    for glass in [Some(false), Some(true)] {
                        let g = CaseFacts {
                            glass,
                            ..plain.clone()
                        };
                        let (p, q) = (&plain, &g);
                        assert_eq!(
                            case_scope(&a).decide(&p.facts(&a)),
                            case_scope(&a).decide(&q.facts(&a)),
                            "{role:?}"
                        );
                        assert_eq!(read_case(&a, p), read_case(&a, q), "{role:?}");
                        assert_eq!(update_case(&a, p), update_case(&a, q), "{role:?}");
                        assert_eq!(manage_case_team(&a, p), manage_case_team(&a, q), "{role:?}");
                        assert_eq!(reassign_case(&a, p), reassign_case(&a, q), "{role:?}");
                        for s in Sensitivity::ALL.iter().copied() {
                            assert_eq!(read_note(&a, p, s), read_note(&a, q, s), "{role:?} {s:?}");
                            assert_eq!(
                                write_note(&a, p, s),
                                write_note(&a, q, s),
                                "{role:?} {s:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn peers_read_team_cases_and_standard_notes_never_restricted() {
        let b = Uuid::now_v7();
        let peer = in_branch(Role::Peer, b);
        let owner = Uuid::now_v7();
        let on_team = CaseFacts {
            owner,
            team: vec![peer.staff_id],
            branch: b,
            glass: None,
        };
        let off_team = CaseFacts {
            owner,
            team: vec![],
            branch: b,
            glass: None,
        };
        assert!(read_case(&peer, &on_team).is_allowed());
        assert!(
            !read_case(&peer, &off_team).is_allowed(),
            "branch alone is not enough for a peer"
        );
        assert_eq!(
            visible_note_sensitivities(&peer, &on_team),
            vec![Sensitivity::Standard]
        );
        assert!(write_note(&peer, &on_team, Sensitivity::Standard).is_allowed());
        assert!(!write_note(&peer, &on_team, Sensitivity::Restricted).is_allowed());
        assert!(!open_case(&peer, b).is_allowed());
    }

    #[test]
    fn restricted_notes_are_for_the_owner_and_branch_supervisors() {
        let b = Uuid::now_v7();
        let owner = in_branch(Role::SocialWorker, b);
        let colleague = in_branch(Role::SocialWorker, b);
        let case = CaseFacts {
            glass: None,
            owner: owner.staff_id,
            team: vec![colleague.staff_id],
            branch: b,
        };
        assert!(read_note(&owner, &case, Sensitivity::Restricted).is_allowed());
        assert!(write_note(&owner, &case, Sensitivity::Restricted).is_allowed());
        assert!(read_note(&colleague, &case, Sensitivity::Standard).is_allowed());
        assert!(!read_note(&colleague, &case, Sensitivity::Restricted).is_allowed());
        let supervisor = in_branch(Role::Supervisor, b);
        assert!(read_note(&supervisor, &case, Sensitivity::Restricted).is_allowed());
        assert!(!write_note(&supervisor, &case, Sensitivity::Standard).is_allowed());
        let elsewhere = in_branch(Role::Supervisor, Uuid::now_v7());
        assert!(!read_note(&elsewhere, &case, Sensitivity::Standard).is_allowed());
    }

    #[test]
    fn workers_read_their_branch_patrons_peers_only_their_own() {
        let b = Uuid::now_v7();
        let worker = in_branch(Role::SocialWorker, b);
        let peer = in_branch(Role::Peer, b);
        let someone = Uuid::now_v7();
        let _ = someone;
        let p = Facts {
            glass: false,
            mine: false,
            team: false,
            branch: b,
        };
        assert!(patron_scope(&worker).decide(&p).is_allowed());
        assert!(!patron_scope(&peer).decide(&p).is_allowed());
        let mine = Facts { mine: true, ..p };
        assert!(patron_scope(&peer).decide(&mine).is_allowed());
        assert!(!update_patron(&worker, &p, None).is_allowed());
        let supervisor = in_branch(Role::Supervisor, b);
        assert!(update_patron(&supervisor, &p, None).is_allowed());
        assert!(
            !update_patron(&supervisor, &p, Some(Uuid::now_v7())).is_allowed(),
            "never to a branch that is not the supervisor's"
        );
        assert!(
            !create_patron(&worker, Uuid::now_v7()).is_allowed(),
            "not outside own branches"
        );
    }

    #[test]
    fn only_branch_supervisors_reassign() {
        let b = Uuid::now_v7();
        let worker = in_branch(Role::SocialWorker, b);
        let case = CaseFacts {
            glass: None,
            owner: worker.staff_id,
            team: vec![],
            branch: b,
        };
        assert!(!reassign_case(&worker, &case).is_allowed());
        assert!(reassign_case(&in_branch(Role::Supervisor, b), &case).is_allowed());
        assert!(!reassign_case(&in_branch(Role::Supervisor, Uuid::now_v7()), &case).is_allowed());
        assert!(manage_case_team(&worker, &case).is_allowed());
    }

    #[test]
    fn teams_are_casework_roles_and_owners_are_social_workers() {
        for role in Role::ALL {
            assert_eq!(
                may_join_case_team(role),
                !NON_CASEWORK.contains(&role),
                "{role:?}"
            );
            assert_eq!(may_own_case(role), role == Role::SocialWorker, "{role:?}");
        }
    }

    /// DESIGN.md section 3, written out once more by hand: which ways into
    /// its view each role has, per kind. The scopes must say exactly this, on
    /// every combination of facts.

    #[test]
    fn only_a_supervisors_open_grant_opens_a_case_outside_scope() {
        let b = Uuid::now_v7();
        let elsewhere = Facts {
            glass: true,
            mine: false,
            team: false,
            branch: Uuid::now_v7(),
        };
        let sup = in_branch(Role::Supervisor, b);
        assert_eq!(
            case_scope(&sup).decide(&elsewhere),
            Decision::Allow("break_glass")
        );
        for role in [
            Role::Peer,
            Role::SocialWorker,
            Role::Staff,
            Role::Security,
            Role::Auditor,
            Role::Admin,
        ] {
            let a = in_branch(role, b);
            assert!(!case_scope(&a).decide(&elsewhere).is_allowed(), "{role:?}");
            assert!(!break_glass(&a, &elsewhere).is_allowed(), "{role:?}");
        }
        let closed = Facts {
            glass: false,
            ..elsewhere
        };
        assert!(break_glass(&sup, &closed).is_allowed());
        assert!(!case_scope(&sup).decide(&closed).is_allowed());
        let mine = Facts {
            branch: b,
            ..closed
        };
        assert_eq!(
            break_glass(&sup, &mine),
            Decision::Deny("case_already_in_scope")
        );
    }

    #[test]
    fn peers_read_a_case_as_a_summary() {
        let b = Uuid::now_v7();
        let peer = in_branch(Role::Peer, b);
        let f = Facts {
            glass: false,
            mine: false,
            team: true,
            branch: b,
        };
        assert_eq!(
            case_scope(&peer).admits(&f).map(|g| g.view),
            Ok(View::Summary)
        );
        let worker = in_branch(Role::SocialWorker, b);
        assert_eq!(
            case_scope(&worker).admits(&f).map(|g| g.view),
            Ok(View::Full)
        );
    }
}
