//! Integration tests: one binary, driving the real HTTP API.

mod audit;
mod auth;
mod break_glass;
mod casework;
mod cli;
mod clock;
mod crash;
mod directory;
mod foundation;
mod helpers;
mod layout;
mod mandated_reports;
mod plans;
mod referrals;
mod roles;
mod safety;
mod scopes;
mod services;
mod sessions;
mod stats;
mod sync;
mod text;
mod training;
mod unit_of_work;
mod wall;
mod web;
