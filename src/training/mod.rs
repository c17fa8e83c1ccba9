//! People and training (DESIGN.md section 2): the training catalogue, staff
//! certifications and their views, and the rules of behavior incidents name.
//! Shared by both sides of the wall; it imports neither.

pub mod api;
pub mod certifications;
pub mod roster;
pub mod rules;
