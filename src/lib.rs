//! Casework: referral and case management for social work in public libraries.
//!
//! Domains over a shared kernel. `casework` (patrons, contacts, cases,
//! notes, consents, follow-ups, referrals, mandated reports) and `safety`
//! (incidents, suspensions) are the two sides of the wall and never import
//! each other; `support` (support requests) is the one door between them,
//! one way; `directory` and `oversight` serve both. The kernel: `access` (the policy), `audit` (the
//! trail and the single writer), `unit` (one unit of work per operation),
//! `auth`, `http`, `db`, `config`, `domain`, `paging`.

pub mod access;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod casework;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod directory;
pub mod domain;
pub mod error;
pub mod first_start;
pub mod http;
pub mod idempotency;
pub mod oidc;
pub mod oversight;
pub mod paging;
pub mod private;
pub mod safety;
pub mod scope;
pub mod server;
pub mod startup;
pub mod state;
pub mod stats;
pub mod support;
pub mod sync;
pub mod telemetry;
pub mod text;
pub mod training;
pub mod unit;
pub mod web;
