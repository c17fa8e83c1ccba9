//! Who may read and change the directory of branches and staff, and device
//! sessions.

use uuid::Uuid;

use super::{Actor, Decision};
use crate::domain::Role;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::testing::*;

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
}
