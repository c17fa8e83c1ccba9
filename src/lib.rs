//! Casework: referral and case management for social work in public libraries.

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod startup;
pub mod telemetry;
