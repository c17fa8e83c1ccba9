//! sea-orm entities, one module per table. Behaviour lives in the service crate.

pub mod audit_event;
pub mod audit_event_patron;
pub mod branch;
pub mod case_file;
pub mod case_member;
pub mod case_note;
pub mod change_log;
pub mod consent;
pub mod contact;
pub mod device_session;
pub mod follow_up;
pub mod idempotency_record;
pub mod login_throttle;
pub mod mandated_report;
pub mod patron;
pub mod patron_name_key;
pub mod referral;
pub mod referral_event;
pub mod refresh_token;
pub mod safety;
pub mod service;
pub mod staff;
pub mod staff_branch;
pub mod support_link;
pub mod support_request;
