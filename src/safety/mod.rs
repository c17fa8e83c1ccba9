//! Safety: security's side of the wall (incidents, suspensions, support
//! requests). Empty until its issue; it will never import `casework`.
