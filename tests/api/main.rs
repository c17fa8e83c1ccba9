//! Integration tests: one binary, driving the real HTTP API.

mod audit;
mod auth;
mod directory;
mod foundation;
mod helpers;
mod sessions;
