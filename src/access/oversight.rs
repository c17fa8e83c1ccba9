//! Auditors: the trail and the review of break-glass grants.

use super::{Actor, Decision};
use crate::domain::Role;

/// Reading the audit trail and verifying its chain: auditors only.
pub fn read_audit(actor: &Actor) -> Decision {
    match actor.role {
        Role::Auditor => Decision::Allow("auditor_reads_audit"),
        _ => Decision::Deny("audit_auditor_only"),
    }
}

/// Reviewing break-glass grants: auditors.
pub fn review_break_glass(actor: &Actor) -> Decision {
    match actor.role {
        Role::Auditor => Decision::Allow("auditor_reviews_break_glass"),
        _ => Decision::Deny("break_glass_review_auditors_only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::testing::*;

    #[test]
    fn only_auditors_read_the_audit_trail() {
        for role in Role::ALL {
            assert_eq!(
                read_audit(&actor(role)).is_allowed(),
                role == Role::Auditor,
                "{role:?}"
            );
        }
    }
}
