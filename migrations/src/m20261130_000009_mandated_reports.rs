//! Mandated reports to protective agencies (DESIGN.md section 5).

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
                .table(MandatedReport::Table)
                .col(uuid(MandatedReport::Id).primary_key())
                .col(uuid(MandatedReport::PatronId))
                .col(uuid_null(MandatedReport::CaseId))
                .col(uuid(MandatedReport::BranchId))
                .col(string_len(MandatedReport::Kind, 40))
                .col(string_len(MandatedReport::Agency, 200))
                .col(text_null(MandatedReport::LegalBasis))
                .col(timestamp_with_time_zone(MandatedReport::LearnedAt))
                .col(timestamp_with_time_zone_null(MandatedReport::ReportedAt))
                .col(string_len_null(MandatedReport::ReportedHow, 16))
                .col(string_len_null(MandatedReport::IntakeNumber, 100))
                .col(string_len_null(MandatedReport::AgencyWorker, 200))
                .col(text(MandatedReport::PersonsConcerned))
                .col(text(MandatedReport::WhatWasReported))
                .col(text_null(MandatedReport::ScreeningOutcome))
                .col(string_len(MandatedReport::Status, 16))
                .col(integer(MandatedReport::Version))
                .col(uuid(MandatedReport::CreatedBy))
                .col(timestamp_with_time_zone(MandatedReport::CreatedAt))
                .col(timestamp_with_time_zone(MandatedReport::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MandatedReport::Table, MandatedReport::PatronId)
                        .to(Patron::Table, Patron::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_mandated_report_patron", MandatedReport::PatronId),
            ("ix_mandated_report_author", MandatedReport::CreatedBy),
            ("ix_mandated_report_branch", MandatedReport::BranchId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(MandatedReport::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MandatedReport::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MandatedReport {
    Table,
    Id,
    PatronId,
    CaseId,
    BranchId,
    Kind,
    Agency,
    LegalBasis,
    LearnedAt,
    ReportedAt,
    ReportedHow,
    IntakeNumber,
    AgencyWorker,
    PersonsConcerned,
    WhatWasReported,
    ScreeningOutcome,
    Status,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Patron {
    Table,
    Id,
}
