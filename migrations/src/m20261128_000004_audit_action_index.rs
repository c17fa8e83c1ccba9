//! Auditors filter the trail by action (every failed sign-in, every export)
//! and by outcome (every denial): index both.

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
                .name("ix_audit_action")
                .table(AuditEvent::Table)
                .col(AuditEvent::Action)
                .col(AuditEvent::Seq)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_outcome")
                .table(AuditEvent::Table)
                .col(AuditEvent::Outcome)
                .col(AuditEvent::Seq)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_audit_outcome")
                .table(AuditEvent::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_audit_action")
                .table(AuditEvent::Table)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Seq,
    Action,
    Outcome,
}
