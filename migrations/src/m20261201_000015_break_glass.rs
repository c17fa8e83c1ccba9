//! Break-glass grants: a supervisor's time-limited access to one case
//! outside their scope, with a written reason, for auditors to review.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BreakGlass::Table)
                .col(uuid(BreakGlass::Id).primary_key())
                .col(uuid(BreakGlass::SupervisorId))
                .col(uuid(BreakGlass::CaseId))
                .col(text(BreakGlass::Reason))
                .col(boolean(BreakGlass::RestrictedNotes))
                .col(timestamp_with_time_zone(BreakGlass::StartsAt))
                .col(timestamp_with_time_zone(BreakGlass::EndsAt))
                .col(timestamp_with_time_zone_null(BreakGlass::ReviewedAt))
                .col(uuid_null(BreakGlass::ReviewedBy))
                .col(text_null(BreakGlass::ReviewComment))
                .col(integer(BreakGlass::Version))
                .foreign_key(
                    ForeignKey::create()
                        .from(BreakGlass::Table, BreakGlass::CaseId)
                        .to(CaseFile::Table, CaseFile::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_break_glass_supervisor_case")
                .table(BreakGlass::Table)
                .col(BreakGlass::SupervisorId)
                .col(BreakGlass::CaseId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BreakGlass::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BreakGlass {
    Table,
    Id,
    SupervisorId,
    CaseId,
    Reason,
    RestrictedNotes,
    StartsAt,
    EndsAt,
    ReviewedAt,
    ReviewedBy,
    ReviewComment,
    Version,
}

#[derive(DeriveIden)]
enum CaseFile {
    Table,
    Id,
}
