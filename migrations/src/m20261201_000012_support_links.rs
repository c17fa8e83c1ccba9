//! Casework's record of the support requests it received: who received
//! and closed each, and the contact or case it led to. On casework's side;
//! it points at casework tables only (the request's id is a plain value).

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
                .table(SupportLink::Table)
                .col(uuid(SupportLink::SupportRequestId).primary_key())
                .col(uuid(SupportLink::ReceivedBy))
                .col(uuid_null(SupportLink::ContactId))
                .col(uuid_null(SupportLink::CaseId))
                .col(uuid_null(SupportLink::ClosedBy))
                .col(timestamp_with_time_zone(SupportLink::CreatedAt))
                .col(timestamp_with_time_zone(SupportLink::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SupportLink::Table, SupportLink::ContactId)
                        .to(Contact::Table, Contact::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SupportLink::Table, SupportLink::CaseId)
                        .to(CaseFile::Table, CaseFile::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SupportLink::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SupportLink {
    Table,
    SupportRequestId,
    ReceivedBy,
    ContactId,
    CaseId,
    ClosedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Contact {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CaseFile {
    Table,
    Id,
}
