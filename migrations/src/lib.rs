//! Schema migrations. Each runs inside a transaction on every backend, so a
//! failed migration leaves nothing half-applied. This crate never depends on
//! the entities: a migration describes the schema as it was on its day.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_directory;
mod m20261128_000002_audit;
mod m20261128_000003_casework;
mod m20261128_000004_audit_action_index;
mod m20261128_000005_unit_of_work;
mod m20261128_000006_one_time_password;
mod m20261130_000007_service_directory;
mod m20261130_000008_referrals;
mod m20261130_000009_mandated_reports;
mod m20261201_000010_safety;
mod m20261201_000011_support_requests;
mod m20261201_000012_support_links;
mod m20261201_000013_training_and_rules;
mod m20261201_000014_incident_resolution;
mod m20261201_000015_break_glass;
mod m20261201_000016_audit_rollups;
mod m20261201_000017_sync;
mod m20261201_000018_load_paths;
mod m20261206_000019_change_log_by_record;
mod m20261206_000020_audit_checkpoint_mark;
mod m20261206_000021_open_referrals_dated;
mod m20261206_000022_single_sign_on;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_directory::Migration),
            Box::new(m20261128_000002_audit::Migration),
            Box::new(m20261128_000003_casework::Migration),
            Box::new(m20261128_000004_audit_action_index::Migration),
            Box::new(m20261128_000005_unit_of_work::Migration),
            Box::new(m20261128_000006_one_time_password::Migration),
            Box::new(m20261130_000007_service_directory::Migration),
            Box::new(m20261130_000008_referrals::Migration),
            Box::new(m20261130_000009_mandated_reports::Migration),
            Box::new(m20261201_000010_safety::Migration),
            Box::new(m20261201_000011_support_requests::Migration),
            Box::new(m20261201_000012_support_links::Migration),
            Box::new(m20261201_000013_training_and_rules::Migration),
            Box::new(m20261201_000014_incident_resolution::Migration),
            Box::new(m20261201_000015_break_glass::Migration),
            Box::new(m20261201_000016_audit_rollups::Migration),
            Box::new(m20261201_000017_sync::Migration),
            Box::new(m20261201_000018_load_paths::Migration),
            Box::new(m20261206_000019_change_log_by_record::Migration),
            Box::new(m20261206_000020_audit_checkpoint_mark::Migration),
            Box::new(m20261206_000021_open_referrals_dated::Migration),
            Box::new(m20261206_000022_single_sign_on::Migration),
        ]
    }
}
