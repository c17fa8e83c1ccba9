//! Every open referral has a follow-up date: the lists of open referrals
//! skip the undated (closed) ones through their index. An open referral
//! without one (none should exist: every move to an open state sets it) is
//! given today's, so that it shows first, as needing attention now.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The open states (`referral_flow::is_open` in the service).
const OPEN: [&str; 6] = [
    "draft",
    "requested",
    "received",
    "accepted",
    "in_progress",
    "on_hold",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(
            Query::update()
                .table(Referral::Table)
                .value(Referral::FollowUpOn, Expr::cust("CURRENT_DATE"))
                .and_where(Expr::col(Referral::FollowUpOn).is_null())
                .and_where(Expr::col(Referral::Status).is_in(OPEN))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Referral {
    Table,
    Status,
    FollowUpOn,
}
