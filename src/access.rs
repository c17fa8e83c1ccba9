//! The access policy: the one place that decides who may do what
//! (DESIGN.md section 3). Pure functions of the caller and the record's
//! owner or scope; deny by default. Each decision names its rule, which the
//! audit trail records.

use uuid::Uuid;

use crate::domain::Role;

/// The signed-in caller, loaded from the database for each request (a token
/// only names the session; role and branches are read fresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: Uuid,
    pub role: Role,
    pub branches: Vec<Uuid>,
    pub session_id: Uuid,
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

/// Reading the directory (branches, staff names and roles): every role.
pub fn read_directory(actor: &Actor) -> Decision {
    match actor.role {
        Role::Peer
        | Role::SocialWorker
        | Role::Supervisor
        | Role::Staff
        | Role::Security
        | Role::Auditor
        | Role::Admin => Decision::Allow("directory_read"),
    }
}

/// Creating and changing branches and staff accounts: admins only.
pub fn manage_directory(actor: &Actor) -> Decision {
    match actor.role {
        Role::Admin => Decision::Allow("admin_manages_directory"),
        _ => Decision::Deny("directory_admin_only"),
    }
}

/// Listing or revoking the device sessions of `owner`: the owner, or an admin.
pub fn manage_sessions(actor: &Actor, owner: Uuid) -> Decision {
    if actor.staff_id == owner {
        Decision::Allow("own_sessions")
    } else if actor.role == Role::Admin {
        Decision::Allow("admin_manages_sessions")
    } else {
        Decision::Deny("not_own_sessions")
    }
}

/// Reading the audit trail and verifying its chain: auditors only.
pub fn read_audit(actor: &Actor) -> Decision {
    match actor.role {
        Role::Auditor => Decision::Allow("auditor_reads_audit"),
        _ => Decision::Deny("audit_auditor_only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            staff_id: Uuid::now_v7(),
            role,
            branches: vec![],
            session_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn every_role_reads_the_directory() {
        for role in Role::ALL {
            assert!(read_directory(&actor(role)).is_allowed(), "{role:?}");
        }
    }

    #[test]
    fn only_admin_manages_the_directory() {
        for role in Role::ALL {
            assert_eq!(
                manage_directory(&actor(role)).is_allowed(),
                role == Role::Admin,
                "{role:?}"
            );
        }
    }

    #[test]
    fn sessions_are_the_owners_or_an_admins() {
        for role in Role::ALL {
            let a = actor(role);
            assert_eq!(
                manage_sessions(&a, a.staff_id),
                Decision::Allow("own_sessions")
            );
            let other = Uuid::now_v7();
            assert_eq!(
                manage_sessions(&a, other).is_allowed(),
                role == Role::Admin,
                "{role:?}"
            );
        }
    }

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
