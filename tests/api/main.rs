//! Integration tests: one binary, driving the real HTTP API.

mod audit;
mod auth;
mod casework;
mod cli;
mod directory;
mod foundation;
mod helpers;
mod plans;
mod roles;
mod sessions;
