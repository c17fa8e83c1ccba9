//! The access policy: the one place that decides who may do what
//! (DESIGN.md section 3). Pure functions of the caller and the record's
//! owner or scope; deny by default. Each decision names its rule, which the
//! audit trail records.
//!
//! The core is here: the caller ([`Actor`]), a [`Decision`] and the rule it
//! names, and a [`Scope`] (which records of a kind a caller may see, as
//! grants of [`Term`]s). Each domain's rules are in the file of its name
//! (`casework`, `safety`, `support`, `directory`, `training`, `oversight`),
//! with their tests beside them; they are re-exported here, so a rule is
//! `access::rule_name` wherever it lives.

use uuid::Uuid;

use crate::domain::Role;

mod casework;
mod directory;
mod oversight;
mod safety;
mod support;
mod training;

pub use casework::*;
pub use directory::*;
pub use oversight::*;
pub use safety::*;
pub use support::*;
pub use training::*;

/// The signed-in caller, loaded from the database for each request (a token
/// only names the session; role and branches are read fresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: Uuid,
    pub role: Role,
    pub branches: Vec<Uuid>,
    pub session_id: Uuid,
    /// The account signed in with a password an admin set: it may only
    /// choose its own until it has.
    pub must_change_password: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(&'static str),
    Deny(&'static str),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    pub fn rule(self) -> &'static str {
        match self {
            Decision::Allow(r) | Decision::Deny(r) => r,
        }
    }
}

// naming one way a record enters the caller's view ([`Term`]) and the rule
// that grants it. A single read is decided by the scope (`admits`), and a
// list is the scope turned into SQL, term by term, by the services: one
// definition serves both, so a list never shows what a read would refuse.

impl Actor {
    fn in_branch(&self, branch: Uuid) -> bool {
        self.branches.contains(&branch)
    }
}

/// One way a record enters a caller's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// The caller made it or it is theirs: a patron they recorded, a contact
    /// they logged, a follow-up assigned to or set by them.
    Mine,
    /// The caller owns or is on the team of the case it belongs to; for a
    /// patron or a contact, of any case of that patron.
    Team,
    /// It belongs to one of the caller's branches.
    Branch,
    /// Every record of the kind (security's view of safety records).
    All,
    /// The caller holds an open break-glass grant to it (a supervisor's
    /// time-limited access to a case outside their scope; every use is
    /// recorded under the rule `break_glass` for auditors to review).
    Glass,
}

/// How much of a record a grant shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Full,
    /// What a peer on a case team needs: no close/reopen reasons. (Restricted
    /// notes never move a case's activity time, so that time may be shown.)
    Summary,
    /// What the requester of a support request sees: its status, when, and
    /// the receiving team, never who received it or what was done.
    StatusOnly,
}

/// One way into a scope and the rule that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub term: Term,
    pub rule: &'static str,
    pub view: View,
}

/// Which records of one kind a caller may see: any record that one of the
/// grants admits. No grants: the caller's role reaches none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub grants: Vec<Grant>,
    /// The caller's branches, for [`Term::Branch`].
    pub branches: Vec<Uuid>,
    /// The rule named when the role reaches the kind, but not this record.
    out_of_scope: &'static str,
}

/// What the policy needs to know about one record, relative to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The caller holds an open break-glass grant to it (cases only).
    pub glass: bool,
    pub mine: bool,
    pub team: bool,
    pub branch: Uuid,
}

impl Scope {
    fn of(actor: &Actor, grants: &[(Term, &'static str)], out_of_scope: &'static str) -> Scope {
        Scope {
            grants: grants
                .iter()
                .map(|&(term, rule)| Grant {
                    term,
                    rule,
                    view: View::Full,
                })
                .collect(),
            branches: actor.branches.clone(),
            out_of_scope,
        }
    }

    fn nothing() -> Scope {
        Scope::none("casework_roles_only")
    }

    /// A role that reaches no record of the kind, denied by `rule`.
    fn none(rule: &'static str) -> Scope {
        Scope {
            grants: Vec::new(),
            branches: Vec::new(),
            out_of_scope: rule,
        }
    }

    fn viewed(mut self, view: View) -> Scope {
        for g in &mut self.grants {
            g.view = view;
        }
        self
    }

    pub fn is_nothing(&self) -> bool {
        self.grants.is_empty()
    }

    /// The denial for a caller whose role reaches nothing of this kind.
    pub fn nothing_rule(&self) -> Decision {
        Decision::Deny(self.out_of_scope)
    }

    pub fn terms(&self) -> impl Iterator<Item = Term> + '_ {
        self.grants.iter().map(|g| g.term)
    }

    fn holds(&self, term: Term, f: &Facts) -> bool {
        match term {
            Term::Mine => f.mine,
            Term::Team => f.team,
            Term::Branch => self.branches.contains(&f.branch),
            Term::All => true,
            Term::Glass => f.glass,
        }
    }

    /// The first grant that admits a record with these facts.
    pub fn admits(&self, f: &Facts) -> Result<Grant, Decision> {
        self.grants
            .iter()
            .find(|g| self.holds(g.term, f))
            .copied()
            .ok_or_else(|| self.nothing_rule())
    }

    /// Whether the `team` fact can change what [`Scope::admits`] answers
    /// for a record with these other facts: only when a team grant comes
    /// before any grant that already holds. Loaders skip the team query
    /// when it cannot.
    pub fn needs_team(&self, f: &Facts) -> bool {
        for g in &self.grants {
            if g.term == Term::Team {
                return true;
            }
            if self.holds(g.term, f) {
                return false;
            }
        }
        false
    }

    /// The same, as a decision.
    pub fn decide(&self, f: &Facts) -> Decision {
        match self.admits(f) {
            Ok(g) => Decision::Allow(g.rule),
            Err(d) => d,
        }
    }
}

/// The caller's own lists ("my contacts", "my follow-ups", "my caseload"):
/// the records of the kind's scope that are also the caller's own.
pub fn own_list(scope: &Scope) -> Decision {
    match scope.grants.first() {
        Some(_) => Decision::Allow("own_records_in_scope"),
        None => scope.nothing_rule(),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn actor(role: Role) -> Actor {
        Actor {
            staff_id: Uuid::now_v7(),
            role,
            branches: vec![],
            session_id: Uuid::now_v7(),
            must_change_password: false,
        }
    }

    pub fn in_branch(role: Role, branch: Uuid) -> Actor {
        Actor {
            branches: vec![branch],
            ..actor(role)
        }
    }

    pub const NON_CASEWORK: [Role; 4] = [Role::Staff, Role::Security, Role::Auditor, Role::Admin];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::testing::*;

    #[test]
    fn a_scope_that_does_not_need_the_team_answers_the_same_either_way() {
        let scopes: [fn(&Actor) -> Scope; 9] = [
            patron_scope,
            contact_scope,
            case_scope,
            follow_up_scope,
            consent_scope,
            referral_scope,
            mandated_report_scope,
            incident_scope,
            support_request_scope,
        ];
        let branch = Uuid::now_v7();
        for role in Role::ALL {
            let mut a = actor(role);
            a.branches = vec![branch];
            for scope in scopes.iter().map(|s| s(&a)) {
                for bits in 0..8u8 {
                    let f = Facts {
                        glass: bits & 1 != 0,
                        mine: bits & 2 != 0,
                        team: false,
                        branch: if bits & 4 != 0 {
                            branch
                        } else {
                            Uuid::now_v7()
                        },
                    };
                    if !scope.needs_team(&f) {
                        let with_team = Facts { team: true, ..f };
                        assert_eq!(
                            scope.admits(&f).map(|g| (g.rule, g.view)),
                            scope.admits(&with_team).map(|g| (g.rule, g.view)),
                            "{role:?} {f:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_wall_no_casework_for_staff_security_auditor_or_admin() {
        let b = Uuid::now_v7();
        for role in NON_CASEWORK {
            let a = in_branch(role, b);
            let case = CaseFacts {
                glass: None,
                owner: a.staff_id,
                team: vec![a.staff_id],
                branch: b,
            };
            let everything = Facts {
                glass: false,
                mine: true,
                team: true,
                branch: b,
            };
            let (patron, contact, fu) = (everything, everything, everything);
            assert!(!create_patron(&a, b).is_allowed(), "{role:?}");
            assert!(!patron_scope(&a).decide(&patron).is_allowed(), "{role:?}");
            assert!(!update_patron(&a, &patron, None).is_allowed(), "{role:?}");
            assert!(!create_contact(&a, b).is_allowed(), "{role:?}");
            assert!(!contact_scope(&a).decide(&contact).is_allowed(), "{role:?}");
            assert!(!update_contact(&a, &contact).is_allowed(), "{role:?}");
            assert!(!open_case(&a, b).is_allowed(), "{role:?}");
            assert!(!opens_cases(&a).is_allowed(), "{role:?}");
            assert!(!read_case(&a, &case).is_allowed(), "{role:?}");
            assert!(!update_case(&a, &case).is_allowed(), "{role:?}");
            assert!(!reassign_case(&a, &case).is_allowed(), "{role:?}");
            assert!(visible_note_sensitivities(&a, &case).is_empty(), "{role:?}");
            assert!(!consent_scope(&a).decide(&patron).is_allowed(), "{role:?}");
            assert!(!manage_consents(&a, &patron).is_allowed(), "{role:?}");
            assert!(!read_follow_up(&a, &fu).is_allowed(), "{role:?}");
            assert!(!create_follow_up(&a, true).is_allowed(), "{role:?}");
            for scope in [
                patron_scope(&a),
                contact_scope(&a),
                case_scope(&a),
                follow_up_scope(&a),
                consent_scope(&a),
            ] {
                assert!(scope.is_nothing(), "{role:?}");
                assert!(!own_list(&scope).is_allowed(), "{role:?}");
            }
        }
    }

    #[test]
    fn the_wall_no_safety_records_for_casework_auditor_or_admin() {
        let b = Uuid::now_v7();
        let everything = Facts {
            glass: false,
            mine: true,
            team: true,
            branch: b,
        };
        for role in [
            Role::Peer,
            Role::SocialWorker,
            Role::Supervisor,
            Role::Auditor,
            Role::Admin,
        ] {
            let a = in_branch(role, b);
            assert!(incident_scope(&a).is_nothing(), "{role:?}");
            assert!(suspension_scope(&a).is_nothing(), "{role:?}");
            assert!(!create_incident(&a, b).is_allowed(), "{role:?}");
            assert!(!change_incident(&a, &everything).is_allowed(), "{role:?}");
            assert!(!manage_suspensions(&a).is_allowed(), "{role:?}");
            assert!(!branch_active_suspensions(&a, b).is_allowed(), "{role:?}");
            assert!(!create_support_request(&a, b).is_allowed(), "{role:?}");
        }
        // Requesters read a request's status, never more.
        for role in [Role::Staff, Role::Security] {
            let a = in_branch(role, b);
            assert_eq!(
                support_request_scope(&a)
                    .admits(&everything)
                    .map(|g| g.view),
                Ok(View::StatusOnly),
                "{role:?}"
            );
            assert!(!handle_support_request(&a, &everything).is_allowed());
        }
    }

    #[test]
    fn scopes_match_the_design_matrix() {
        use Term::*;
        type Expect = fn(Role) -> &'static [Term];
        type Kind = (&'static str, fn(&Actor) -> Scope, Expect);
        let kinds: [Kind; 8] = [
            ("patron", patron_scope, |r| match r {
                Role::Peer => &[Mine, Team],
                Role::SocialWorker => &[Mine, Team, Branch],
                Role::Supervisor => &[Branch],
                _ => &[],
            }),
            ("contact", contact_scope, |r| match r {
                Role::Peer => &[Mine],
                Role::SocialWorker => &[Mine, Team],
                Role::Supervisor => &[Branch],
                _ => &[],
            }),
            ("case", case_scope, |r| match r {
                Role::Peer | Role::SocialWorker => &[Team],
                Role::Supervisor => &[Branch],
                _ => &[],
            }),
            ("follow_up", follow_up_scope, |r| match r {
                Role::Peer => &[Mine],
                Role::SocialWorker => &[Mine, Team],
                Role::Supervisor => &[Mine, Branch],
                _ => &[],
            }),
            ("consent", consent_scope, |r| match r {
                Role::Peer => &[Team],
                Role::SocialWorker => &[Mine, Team],
                Role::Supervisor => &[Branch],
                _ => &[],
            }),
            ("incident", incident_scope, |r| match r {
                Role::Security => &[All],
                Role::Staff => &[Branch],
                _ => &[],
            }),
            ("suspension", suspension_scope, |r| match r {
                Role::Security => &[All],
                _ => &[],
            }),
            ("support_request", support_request_scope, |r| match r {
                Role::Staff | Role::Security => &[Mine],
                Role::SocialWorker | Role::Supervisor => &[Branch],
                _ => &[],
            }),
        ];
        let home = Uuid::now_v7();
        for role in Role::ALL {
            let a = in_branch(role, home);
            for (kind, scope_of, expect) in kinds {
                let scope = scope_of(&a);
                for bits in 0..8u8 {
                    let f = Facts {
                        glass: false,
                        mine: bits & 1 != 0,
                        team: bits & 2 != 0,
                        branch: if bits & 4 != 0 { home } else { Uuid::now_v7() },
                    };
                    let expected = expect(role).iter().any(|t| match t {
                        Mine => f.mine,
                        Team => f.team,
                        Branch => f.branch == home,
                        All => true,
                        Glass => f.glass,
                    });
                    assert_eq!(scope.admits(&f).is_ok(), expected, "{kind} {role:?} {f:?}");
                }
            }
        }
    }
}
