//! Signing in and device sessions: passwords checked and throttled, single
//! sign-on through an OpenID Connect provider (`sso`), tokens
//! issued, refreshed and revoked, and the caller of each request loaded
//! from its session. The secrets themselves (hashes, keys, tokens) are in
//! `credentials`; the endpoints that use this are the directory's
//! (`directory::sign_in_api`, `directory::me_api`).

pub mod service;
pub mod sessions;
pub mod sso;
