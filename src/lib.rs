//! Casework: referral and case management for social work in public libraries.

pub mod access;
pub mod api;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod services;
pub mod startup;
pub mod telemetry;
