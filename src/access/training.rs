//! People and training: the catalogue and certifications.

use uuid::Uuid;

use super::{Actor, Decision};
use crate::domain::Role;

//
// The training catalogue and rules of behavior are read by every role that
// works a branch (auditors review access, not training); admins manage
// them. A staff member reads their own certifications; supervisors read and
// record those of their branches' staff; admins everyone's.

/// Reading the training catalogue and the rules of behavior.
pub fn read_catalogue(actor: &Actor) -> Decision {
    match actor.role {
        Role::Auditor => Decision::Deny("catalogue_not_for_auditors"),
        _ => Decision::Allow("catalogue_read"),
    }
}

/// Changing the training catalogue and the rules of behavior: admins.
pub fn manage_catalogue(actor: &Actor) -> Decision {
    match actor.role {
        Role::Admin => Decision::Allow("admin_manages_catalogue"),
        _ => Decision::Deny("catalogue_admin_only"),
    }
}

/// A staff member's certifications: their own, their branches' for a
/// supervisor, anyone's for an admin.
pub fn read_certifications(actor: &Actor, staff: Uuid, staff_branches: &[Uuid]) -> Decision {
    if actor.staff_id == staff && actor.role != Role::Auditor {
        return Decision::Allow("own_certifications");
    }
    match actor.role {
        Role::Supervisor if staff_branches.iter().any(|b| actor.in_branch(*b)) => {
            Decision::Allow("supervisor_reads_branch_certifications")
        }
        Role::Admin => Decision::Allow("admin_reads_certifications"),
        _ => Decision::Deny("certifications_own_branch_or_admin"),
    }
}

/// Whether the caller's role may record completions at all, decided before
/// the staff member is looked up.
pub fn may_manage_certifications(actor: &Actor) -> Decision {
    match actor.role {
        Role::Supervisor => Decision::Allow("supervisor_manages_branch_certifications"),
        Role::Admin => Decision::Allow("admin_manages_certifications"),
        _ => Decision::Deny("certifications_managed_by_supervisor_or_admin"),
    }
}

/// Recording a completion: for a branch's staff, its supervisors; anyone's,
/// admins.
pub fn manage_certifications(actor: &Actor, staff_branches: &[Uuid]) -> Decision {
    match actor.role {
        Role::Supervisor if staff_branches.iter().any(|b| actor.in_branch(*b)) => {
            Decision::Allow("supervisor_manages_branch_certifications")
        }
        Role::Admin => Decision::Allow("admin_manages_certifications"),
        _ => Decision::Deny("certifications_managed_by_supervisor_or_admin"),
    }
}

/// A branch's training views (expiring, coverage, trainers): its
/// supervisors, and admins.
pub fn branch_training_oversight(actor: &Actor, branch: Uuid) -> Decision {
    match actor.role {
        Role::Supervisor if actor.in_branch(branch) => {
            Decision::Allow("supervisor_reads_branch_training")
        }
        Role::Admin => Decision::Allow("admin_reads_branch_training"),
        _ => Decision::Deny("branch_training_supervisor_or_admin"),
    }
}
