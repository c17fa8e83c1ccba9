//! sea-orm entities, one module per table. Behaviour lives in the service crate.

pub mod audit_event;
pub mod branch;
pub mod device_session;
pub mod login_throttle;
pub mod refresh_token;
pub mod staff;
pub mod staff_branch;
