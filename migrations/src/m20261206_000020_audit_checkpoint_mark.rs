//! The last signed audit checkpoint made with each checkpoint key, kept in
//! the database too, so that a checkpoint file that goes missing or shorter
//! stops the start.

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
                .table(AuditCheckpointMark::Table)
                .col(string_len(AuditCheckpointMark::PublicKey, 64).primary_key())
                .col(big_integer(AuditCheckpointMark::Seq))
                .col(string_len(AuditCheckpointMark::At, 32))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditCheckpointMark::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditCheckpointMark {
    Table,
    PublicKey,
    Seq,
    At,
}
