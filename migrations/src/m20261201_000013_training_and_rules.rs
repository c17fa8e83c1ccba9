//! People and training (DESIGN.md section 2): the training catalogue, staff
//! certifications, and the library's rules of behavior. Shared reference
//! data: neither casework nor safety.

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
                .table(Training::Table)
                .col(uuid(Training::Id).primary_key())
                .col(string_len_uniq(Training::Name, 200))
                .col(string_len(Training::Provider, 200))
                .col(integer_null(Training::RecertifyMonths))
                .col(boolean(Training::DeEscalation))
                .col(integer(Training::Version))
                .col(timestamp_with_time_zone(Training::CreatedAt))
                .col(timestamp_with_time_zone(Training::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Certification::Table)
                .col(uuid(Certification::Id).primary_key())
                .col(uuid(Certification::StaffId))
                .col(uuid(Certification::TrainingId))
                .col(date(Certification::CompletedOn))
                .col(date_null(Certification::ExpiresOn))
                .col(boolean(Certification::Trainer))
                .col(string_len_null(Certification::Evidence, 200))
                .col(uuid_null(Certification::CreatedBy))
                .col(timestamp_with_time_zone(Certification::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Certification::Table, Certification::StaffId)
                        .to(Staff::Table, Staff::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Certification::Table, Certification::TrainingId)
                        .to(Training::Table, Training::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_certification_staff_training")
                .table(Certification::Table)
                .col(Certification::StaffId)
                .col(Certification::TrainingId)
                .col(Certification::CompletedOn)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Rule::Table)
                .col(uuid(Rule::Id).primary_key())
                .col(uuid_null(Rule::BranchId))
                .col(string_len(Rule::Code, 40))
                .col(text(Rule::Text))
                .col(boolean(Rule::Active))
                .col(integer(Rule::Version))
                .col(timestamp_with_time_zone(Rule::CreatedAt))
                .col(timestamp_with_time_zone(Rule::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Rule::Table, Rule::BranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_rule_code")
                .table(Rule::Table)
                .col(Rule::Code)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Rule::Table.into_iden(),
            Certification::Table.into_iden(),
            Training::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Training {
    Table,
    Id,
    Name,
    Provider,
    RecertifyMonths,
    DeEscalation,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Certification {
    Table,
    Id,
    StaffId,
    TrainingId,
    CompletedOn,
    ExpiresOn,
    Trainer,
    Evidence,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Rule {
    Table,
    Id,
    BranchId,
    Code,
    Text,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Branch {
    Table,
    Id,
}
