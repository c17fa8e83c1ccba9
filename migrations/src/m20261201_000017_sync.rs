//! What each device holds of the caller's view, so that the sync feed can
//! tell a tablet which records left that view (tombstones) and nobody learns
//! of records they never held.

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
                .table(SyncHolding::Table)
                .col(uuid(SyncHolding::SessionId))
                .col(string_len(SyncHolding::Kind, 32))
                .col(uuid(SyncHolding::RecordId))
                .col(uuid_null(SyncHolding::PatronId))
                .primary_key(
                    Index::create()
                        .col(SyncHolding::SessionId)
                        .col(SyncHolding::Kind)
                        .col(SyncHolding::RecordId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_sync_holding_patron")
                .table(SyncHolding::Table)
                .col(SyncHolding::SessionId)
                .col(SyncHolding::PatronId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SyncHolding::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SyncHolding {
    Table,
    SessionId,
    Kind,
    RecordId,
    PatronId,
}
