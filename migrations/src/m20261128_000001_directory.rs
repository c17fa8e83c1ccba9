//! Branches, staff accounts and their device sessions.

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
                .table(Branch::Table)
                .col(uuid(Branch::Id).primary_key())
                .col(string_len_uniq(Branch::Code, 16))
                .col(string_len(Branch::Name, 200))
                .col(integer(Branch::Version))
                .col(timestamp_with_time_zone(Branch::CreatedAt))
                .col(timestamp_with_time_zone(Branch::UpdatedAt))
                .col(uuid_null(Branch::CreatedBy))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Staff::Table)
                .col(uuid(Staff::Id).primary_key())
                .col(string_len_uniq(Staff::Username, 64))
                .col(string_len(Staff::DisplayName, 200))
                .col(string_len(Staff::Role, 32))
                .col(boolean(Staff::Active))
                .col(string_len(Staff::PasswordHash, 255))
                .col(integer(Staff::Version))
                .col(timestamp_with_time_zone(Staff::CreatedAt))
                .col(timestamp_with_time_zone(Staff::UpdatedAt))
                .col(uuid_null(Staff::CreatedBy))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StaffBranch::Table)
                .col(uuid(StaffBranch::StaffId))
                .col(uuid(StaffBranch::BranchId))
                .primary_key(
                    Index::create()
                        .col(StaffBranch::StaffId)
                        .col(StaffBranch::BranchId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StaffBranch::Table, StaffBranch::StaffId)
                        .to(Staff::Table, Staff::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StaffBranch::Table, StaffBranch::BranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_staff_branch_branch")
                .table(StaffBranch::Table)
                .col(StaffBranch::BranchId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DeviceSession::Table)
                .col(uuid(DeviceSession::Id).primary_key())
                .col(uuid(DeviceSession::StaffId))
                .col(string_len(DeviceSession::DeviceName, 100))
                .col(timestamp_with_time_zone(DeviceSession::CreatedAt))
                .col(timestamp_with_time_zone(DeviceSession::LastUsedAt))
                .col(timestamp_with_time_zone(DeviceSession::ExpiresAt))
                .col(timestamp_with_time_zone_null(DeviceSession::RevokedAt))
                .col(string_len_null(DeviceSession::RevokedReason, 32))
                .foreign_key(
                    ForeignKey::create()
                        .from(DeviceSession::Table, DeviceSession::StaffId)
                        .to(Staff::Table, Staff::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_device_session_staff")
                .table(DeviceSession::Table)
                .col(DeviceSession::StaffId)
                .col(DeviceSession::CreatedAt)
                .to_owned(),
        )
        .await?;

        // One row per refresh token ever issued: a token presented a second
        // time is recognised as reuse and ends its session.
        m.create_table(
            Table::create()
                .table(RefreshToken::Table)
                .col(string_len(RefreshToken::TokenHash, 64).primary_key())
                .col(uuid(RefreshToken::SessionId))
                .col(timestamp_with_time_zone(RefreshToken::IssuedAt))
                .col(timestamp_with_time_zone_null(RefreshToken::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RefreshToken::Table, RefreshToken::SessionId)
                        .to(DeviceSession::Table, DeviceSession::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_token_session")
                .table(RefreshToken::Table)
                .col(RefreshToken::SessionId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RefreshToken::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DeviceSession::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(StaffBranch::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Staff::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Branch::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Branch {
    Table,
    Id,
    Code,
    Name,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
    Username,
    DisplayName,
    Role,
    Active,
    PasswordHash,
    Version,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum StaffBranch {
    Table,
    StaffId,
    BranchId,
}

#[derive(DeriveIden)]
enum DeviceSession {
    Table,
    Id,
    StaffId,
    DeviceName,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    TokenHash,
    SessionId,
    IssuedAt,
    UsedAt,
}
