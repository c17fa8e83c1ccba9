//! Indexes for the load benchmark's paths: idempotency keys are swept by
//! age in the background (no longer by each request), found by their time;
//! a worker's open referrals, soonest due first, are read in index order
//! instead of sorted.

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
                .name("ix_idempotency_record_created_at")
                .table(IdempotencyRecord::Table)
                .col(IdempotencyRecord::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_referral_creator_due")
                .table(Referral::Table)
                .col(Referral::CreatedBy)
                .col(Referral::FollowUpOn)
                .col(Referral::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_idempotency_record_created_at")
                .table(IdempotencyRecord::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_referral_creator_due")
                .table(Referral::Table)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum IdempotencyRecord {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Referral {
    Table,
    CreatedBy,
    FollowUpOn,
    Id,
}
