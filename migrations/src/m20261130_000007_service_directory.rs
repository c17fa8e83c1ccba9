//! The directory of outside services (a subset of Open Referral HSDS).

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
                .table(Service::Table)
                .col(uuid(Service::Id).primary_key())
                // The HSDS id of an imported service: a re-import updates it.
                .col(string_len_null(Service::HsdsId, 200).unique_key())
                .col(string_len(Service::OrganizationName, 200))
                .col(string_len(Service::Name, 200))
                // Matching form of organization and service name, for search.
                .col(string_len(Service::NameKey, 1000))
                // JSON array of needs, e.g. ["food","housing"].
                .col(string_len(Service::Categories, 400))
                .col(string_len_null(Service::Phone, 50))
                .col(string_len_null(Service::Email, 254))
                .col(string_len_null(Service::Address, 500))
                .col(text_null(Service::Eligibility))
                // JSON array of language codes or names.
                .col(string_len(Service::Languages, 400))
                .col(string_len(Service::Status, 16))
                .col(integer(Service::Version))
                .col(timestamp_with_time_zone(Service::CreatedAt))
                .col(timestamp_with_time_zone(Service::UpdatedAt))
                .col(uuid_null(Service::CreatedBy))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_service_status_id")
                .table(Service::Table)
                .col(Service::Status)
                .col(Service::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Service::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Service {
    Table,
    Id,
    HsdsId,
    OrganizationName,
    Name,
    NameKey,
    Categories,
    Phone,
    Email,
    Address,
    Eligibility,
    Languages,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
}
