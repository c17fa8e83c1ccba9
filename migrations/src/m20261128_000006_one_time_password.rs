//! A password an admin sets for someone else works once: the account must
//! choose its own at its next sign-in.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Staff::Table)
                .add_column(boolean(Staff::MustChangePassword).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Staff::Table)
                .drop_column(Staff::MustChangePassword)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    MustChangePassword,
}
