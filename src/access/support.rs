//! Support requests: the one door from staff and security to social work,
//! one way.

use uuid::Uuid;

use super::{Actor, Decision, Facts, Scope, Term, View};
use crate::domain::Role;

//
// Staff and security open them and then see their status only; the social
// workers and supervisors of the branch see what was shared and receive
// them. Nothing flows back.

/// Support requests: their requesters see the status of their own; social
/// workers and supervisors the requests to their branches.
pub fn support_request_scope(actor: &Actor) -> Scope {
    use Term::*;
    match actor.role {
        Role::Staff | Role::Security => Scope::of(
            actor,
            &[(Mine, "requester_reads_status_of_own_request")],
            "support_request_out_of_scope",
        )
        .viewed(View::StatusOnly),
        Role::SocialWorker | Role::Supervisor => Scope::of(
            actor,
            &[(Branch, "social_work_reads_branch_requests")],
            "support_request_out_of_scope",
        ),
        _ => Scope::none("support_requests_not_for_role"),
    }
}

/// Opening a support request: security for any branch, staff for theirs.
pub fn create_support_request(actor: &Actor, branch: Uuid) -> Decision {
    match actor.role {
        Role::Security => Decision::Allow("security_asks_social_work"),
        Role::Staff if actor.in_branch(branch) => Decision::Allow("staff_asks_branch_social_work"),
        Role::Staff => Decision::Deny("support_request_branch_out_of_scope"),
        _ => Decision::Deny("support_requests_from_staff_or_security"),
    }
}

/// Receiving and closing a request: the branch's social workers and
/// supervisors (the requester only ever reads its status).
pub fn handle_support_request(actor: &Actor, r: &Facts) -> Decision {
    match actor.role {
        Role::SocialWorker | Role::Supervisor if actor.in_branch(r.branch) => {
            Decision::Allow("branch_social_work_handles_request")
        }
        _ => Decision::Deny("support_request_handled_by_branch_social_work"),
    }
}
