//! The directory: branches and staff accounts, and the outside services
//! people are referred to (admin-managed, readable by every role).

pub mod api;
pub mod hsds;
pub mod service;
pub mod services;
pub mod services_api;
