//! The sync feed asks, before anything else, whether the caller's own
//! account changed after a device's cursor: the change log found by record.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_change_log_record_seq")
                .table(ChangeLog::Table)
                .col(ChangeLog::RecordId)
                .col(ChangeLog::Seq)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_change_log_record_seq")
                .table(ChangeLog::Table)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    RecordId,
    Seq,
}
