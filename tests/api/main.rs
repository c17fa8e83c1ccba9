//! Integration tests: one binary, driving the real HTTP API.

mod foundation;
mod helpers;
