//! Support requests: the one door from safety to social work. The table
//! keeps copies of what its requester chose to share; it has no key into
//! either side (only the branch, from the directory).

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
                .table(SupportRequest::Table)
                .col(uuid(SupportRequest::Id).primary_key())
                .col(uuid(SupportRequest::BranchId))
                .col(string_len(SupportRequest::Urgency, 20))
                .col(text(SupportRequest::Needed))
                .col(text_null(SupportRequest::Shared))
                .col(string_len(SupportRequest::Status, 20))
                .col(timestamp_with_time_zone_null(SupportRequest::ReceivedAt))
                .col(string_len_null(SupportRequest::ReceivedTeam, 300))
                .col(timestamp_with_time_zone_null(SupportRequest::ClosedAt))
                .col(integer(SupportRequest::Version))
                .col(uuid(SupportRequest::CreatedBy))
                .col(timestamp_with_time_zone(SupportRequest::CreatedAt))
                .col(timestamp_with_time_zone(SupportRequest::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SupportRequest::Table, SupportRequest::BranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_support_request_branch_status",
                vec![SupportRequest::BranchId, SupportRequest::Status],
            ),
            ("ix_support_request_author", vec![SupportRequest::CreatedBy]),
        ] {
            let mut ix = Index::create();
            ix.name(name).table(SupportRequest::Table);
            for c in cols {
                ix.col(c);
            }
            m.create_index(ix.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SupportRequest::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SupportRequest {
    Table,
    Id,
    BranchId,
    Urgency,
    Needed,
    Shared,
    Status,
    ReceivedAt,
    ReceivedTeam,
    ClosedAt,
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
