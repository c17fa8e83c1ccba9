//! The directory: branches and staff accounts (and their sign-in and own
//! account endpoints), and the outside services people are referred to
//! (admin-managed, readable by every role).

pub mod api;
pub mod hsds;
pub mod me_api;
pub mod service;
pub mod services;
pub mod services_api;
pub mod sign_in_api;
