//! Safety's tables (DESIGN.md sections 1 and 2): incidents, their
//! amendments, suspensions. On security's side of the wall: no key points
//! at a casework table, and none of these is pointed at from casework.

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
                .table(Incident::Table)
                .col(uuid(Incident::Id).primary_key())
                .col(uuid(Incident::BranchId))
                .col(timestamp_with_time_zone(Incident::OccurredAt))
                .col(string_len(Incident::Category, 40))
                .col(text(Incident::Description))
                .col(text(Incident::DescriptionKey))
                .col(string_len(Incident::ActionTaken, 40))
                .col(text_null(Incident::PersonsInvolved))
                .col(text(Incident::Responders))
                .col(integer(Incident::Version))
                .col(uuid(Incident::CreatedBy))
                .col(timestamp_with_time_zone(Incident::CreatedAt))
                .col(timestamp_with_time_zone(Incident::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Incident::Table, Incident::BranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_incident_branch", Incident::BranchId),
            ("ix_incident_occurred", Incident::OccurredAt),
            ("ix_incident_author", Incident::CreatedBy),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Incident::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(IncidentAmendment::Table)
                .col(uuid(IncidentAmendment::Id).primary_key())
                .col(uuid(IncidentAmendment::IncidentId))
                .col(text(IncidentAmendment::Text))
                .col(uuid(IncidentAmendment::CreatedBy))
                .col(timestamp_with_time_zone(IncidentAmendment::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(IncidentAmendment::Table, IncidentAmendment::IncidentId)
                        .to(Incident::Table, Incident::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_incident_amendment_incident")
                .table(IncidentAmendment::Table)
                .col(IncidentAmendment::IncidentId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Suspension::Table)
                .col(uuid(Suspension::Id).primary_key())
                .col(string_len(Suspension::Person, 200))
                .col(uuid_null(Suspension::BranchId))
                .col(timestamp_with_time_zone(Suspension::StartsAt))
                .col(timestamp_with_time_zone(Suspension::EndsAt))
                .col(text(Suspension::Reason))
                .col(uuid_null(Suspension::IncidentId))
                .col(string_len(Suspension::NotifiedHow, 20))
                .col(string_len(Suspension::AppealStatus, 20))
                .col(text_null(Suspension::AppealDecision))
                .col(timestamp_with_time_zone_null(Suspension::LiftedAt))
                .col(uuid_null(Suspension::LiftedBy))
                .col(text_null(Suspension::LiftReason))
                .col(integer(Suspension::Version))
                .col(uuid(Suspension::CreatedBy))
                .col(timestamp_with_time_zone(Suspension::CreatedAt))
                .col(timestamp_with_time_zone(Suspension::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Suspension::Table, Suspension::BranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Suspension::Table, Suspension::IncidentId)
                        .to(Incident::Table, Incident::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_suspension_branch", Suspension::BranchId),
            ("ix_suspension_ends", Suspension::EndsAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Suspension::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Suspension::Table.into_iden(),
            IncidentAmendment::Table.into_iden(),
            Incident::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Incident {
    Table,
    Id,
    BranchId,
    OccurredAt,
    Category,
    Description,
    DescriptionKey,
    ActionTaken,
    PersonsInvolved,
    Responders,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IncidentAmendment {
    Table,
    Id,
    IncidentId,
    Text,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Suspension {
    Table,
    Id,
    Person,
    BranchId,
    StartsAt,
    EndsAt,
    Reason,
    IncidentId,
    NotifiedHow,
    AppealStatus,
    AppealDecision,
    LiftedAt,
    LiftedBy,
    LiftReason,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Branch {
    Table,
    Id,
}
