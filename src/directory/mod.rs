//! The directory: branches and staff accounts (admin-managed, readable by
//! every role).

pub mod api;
pub mod service;
