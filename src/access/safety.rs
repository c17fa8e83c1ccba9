//! Safety: incidents, suspensions and rules of behavior, on the other side
//! of the wall.
//!
//! Security's records, on the other side of the wall. Only staff and
//! security reach them; every other role, casework's included, is denied
//! before any row is loaded and gets the answer a missing record gets.

use uuid::Uuid;

use super::{Actor, Decision, Facts, Scope, Term};
use crate::domain::Role;

/// Incidents: security reads all of them, staff their branches'.
pub fn incident_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Security => Scope::of(
            actor,
            &[(All, "security_reads_all_incidents")],
            "incident_out_of_scope",
        ),
        Role::Staff => Scope::of(
            actor,
            &[(Branch, "staff_reads_branch_incidents")],
            "incident_out_of_scope",
        ),
        _ => Scope::none("safety_roles_only"),
    }
}

/// Reporting an incident: security anywhere, staff in their branches.
pub fn create_incident(actor: &Actor, branch: Uuid) -> Decision {
    match actor.role {
        Role::Security => Decision::Allow("security_reports_incident"),
        Role::Staff if actor.in_branch(branch) => Decision::Allow("staff_reports_branch_incident"),
        Role::Staff => Decision::Deny("incident_branch_out_of_scope"),
        _ => Decision::Deny("safety_roles_only"),
    }
}

/// Changing an incident (within its edit window) or amending it: security,
/// or the staff member who reported it.
pub fn change_incident(actor: &Actor, i: &Facts) -> Decision {
    match actor.role {
        Role::Security => Decision::Allow("security_changes_incident"),
        Role::Staff if i.mine => Decision::Allow("author_changes_own_incident"),
        _ => Decision::Deny("incident_change_security_or_author"),
    }
}

/// Suspensions: security only (staff see a branch's active list, below).
pub fn suspension_scope(actor: &Actor) -> Scope {
    match actor.role {
        Role::Security => Scope::of(
            actor,
            &[(Term::All, "security_reads_all_suspensions")],
            "suspension_out_of_scope",
        ),
        _ => Scope::none("suspensions_security_only"),
    }
}

/// Recording, changing and lifting suspensions: security only.
pub fn manage_suspensions(actor: &Actor) -> Decision {
    match actor.role {
        Role::Security => Decision::Allow("security_manages_suspensions"),
        _ => Decision::Deny("suspensions_security_only"),
    }
}

/// A branch's active suspensions (who, where, until when): its staff, and
/// security.
pub fn branch_active_suspensions(actor: &Actor, branch: Uuid) -> Decision {
    match actor.role {
        Role::Security => Decision::Allow("security_reads_all_suspensions"),
        Role::Staff if actor.in_branch(branch) => Decision::Allow("staff_reads_branch_suspensions"),
        Role::Staff => Decision::Deny("suspension_branch_out_of_scope"),
        _ => Decision::Deny("suspensions_security_or_branch_staff"),
    }
}

/// Whether the caller's role may change rules of behavior at all, decided
/// before the rule is looked up.
pub fn may_manage_rules(actor: &Actor) -> Decision {
    match actor.role {
        Role::Admin => Decision::Allow("admin_manages_catalogue"),
        Role::Supervisor => Decision::Allow("supervisor_manages_branch_rules"),
        _ => manage_rule(actor, None),
    }
}

/// Changing a rule of behavior: admins any; a branch's supervisors the
/// rules of their branches (a library-wide rule is the admins').
pub fn manage_rule(actor: &Actor, branch: Option<Uuid>) -> Decision {
    match (actor.role, branch) {
        (Role::Admin, _) => Decision::Allow("admin_manages_catalogue"),
        (Role::Supervisor, Some(b)) if actor.in_branch(b) => {
            Decision::Allow("supervisor_manages_branch_rules")
        }
        _ => Decision::Deny("rules_admin_or_branch_supervisor"),
    }
}
