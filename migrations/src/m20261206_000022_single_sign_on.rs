//! Single sign-on (OpenID Connect): how each device session was signed in
//! (`password` or `sso`), an account's link to the provider's
//! subject (set by an admin, or once by a verified email the admin gave),
//! whether its local password may still sign in, the sign-ins begun at the
//! provider and not yet back, and the one-time tickets that hand a finished
//! sign-in to the app.

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
                .add_column(string_len_null(Staff::SsoSubject, 255))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Staff::Table)
                .add_column(string_len_null(Staff::SsoEmail, 254))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Staff::Table)
                .add_column(boolean(Staff::PasswordSignIn).default(true))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(DeviceSession::Table)
                .add_column(string_len(DeviceSession::SignedInWith, 16).default("password"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("staff_sso_subject")
                .table(Staff::Table)
                .col(Staff::SsoSubject)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("staff_sso_email")
                .table(Staff::Table)
                .col(Staff::SsoEmail)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SsoFlow::Table)
                .col(string_len(SsoFlow::StateHash, 64).primary_key())
                .col(string_len(SsoFlow::Nonce, 64))
                .col(string_len(SsoFlow::PkceVerifier, 128))
                .col(string_len(SsoFlow::DeviceName, 100))
                .col(timestamp_with_time_zone(SsoFlow::CreatedAt))
                .col(timestamp_with_time_zone(SsoFlow::ExpiresAt))
                .col(timestamp_with_time_zone_null(SsoFlow::UsedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SsoTicket::Table)
                .col(string_len(SsoTicket::TicketHash, 64).primary_key())
                .col(uuid(SsoTicket::SessionId))
                .col(uuid(SsoTicket::StaffId))
                .col(timestamp_with_time_zone(SsoTicket::ExpiresAt))
                .col(timestamp_with_time_zone_null(SsoTicket::UsedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SsoTicket::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SsoFlow::Table).to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("staff_sso_email")
                .table(Staff::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("staff_sso_subject")
                .table(Staff::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(DeviceSession::Table)
                .drop_column(DeviceSession::SignedInWith)
                .to_owned(),
        )
        .await?;
        for col in [Staff::PasswordSignIn, Staff::SsoEmail, Staff::SsoSubject] {
            m.alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    SsoSubject,
    SsoEmail,
    PasswordSignIn,
}

#[derive(DeriveIden)]
enum DeviceSession {
    Table,
    SignedInWith,
}

#[derive(DeriveIden)]
enum SsoFlow {
    Table,
    StateHash,
    Nonce,
    PkceVerifier,
    DeviceName,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum SsoTicket {
    Table,
    TicketHash,
    SessionId,
    StaffId,
    ExpiresAt,
    UsedAt,
}
