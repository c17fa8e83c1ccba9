//! Closed-loop referrals and their history (DESIGN.md section 4).

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
                .table(Referral::Table)
                .col(uuid(Referral::Id).primary_key())
                .col(uuid(Referral::PatronId))
                .col(uuid_null(Referral::CaseId))
                // The case's branch, else the patron's home branch: branch scope.
                .col(uuid(Referral::BranchId))
                .col(uuid_null(Referral::ServiceId))
                // A snapshot of the recipient at the time of the referral.
                .col(string_len(Referral::RecipientName, 410))
                .col(string_len_null(Referral::RecipientPhone, 50))
                .col(string_len(Referral::Needs, 400))
                .col(text_null(Referral::Notes))
                .col(boolean(Referral::SharesIdentifyingData))
                .col(string_len(Referral::Status, 24))
                .col(string_len_null(Referral::Outcome, 32))
                .col(date_null(Referral::FollowUpOn))
                .col(integer(Referral::Version))
                .col(uuid(Referral::CreatedBy))
                .col(timestamp_with_time_zone(Referral::CreatedAt))
                .col(timestamp_with_time_zone(Referral::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Referral::Table, Referral::PatronId)
                        .to(Patron::Table, Patron::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Referral::Table, Referral::CaseId)
                        .to(CaseFile::Table, CaseFile::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_referral_patron", Referral::PatronId),
            ("ix_referral_case", Referral::CaseId),
            ("ix_referral_creator", Referral::CreatedBy),
            ("ix_referral_branch", Referral::BranchId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Referral::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(ReferralEvent::Table)
                .col(uuid(ReferralEvent::Id).primary_key())
                .col(uuid(ReferralEvent::ReferralId))
                .col(string_len_null(ReferralEvent::FromStatus, 24))
                .col(string_len(ReferralEvent::ToStatus, 24))
                .col(uuid(ReferralEvent::ActorId))
                .col(timestamp_with_time_zone(ReferralEvent::OccurredAt))
                .col(timestamp_with_time_zone(ReferralEvent::RecordedAt))
                .col(text_null(ReferralEvent::Reason))
                .col(string_len_null(ReferralEvent::Outcome, 32))
                .col(boolean(ReferralEvent::OnBehalfOfAgency))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReferralEvent::Table, ReferralEvent::ReferralId)
                        .to(Referral::Table, Referral::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_referral_event_referral")
                .table(ReferralEvent::Table)
                .col(ReferralEvent::ReferralId)
                .col(ReferralEvent::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReferralEvent::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Referral::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Referral {
    Table,
    Id,
    PatronId,
    CaseId,
    BranchId,
    ServiceId,
    RecipientName,
    RecipientPhone,
    Needs,
    Notes,
    SharesIdentifyingData,
    Status,
    Outcome,
    FollowUpOn,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReferralEvent {
    Table,
    Id,
    ReferralId,
    FromStatus,
    ToStatus,
    ActorId,
    OccurredAt,
    RecordedAt,
    Reason,
    Outcome,
    OnBehalfOfAgency,
}

#[derive(DeriveIden)]
enum Patron {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CaseFile {
    Table,
    Id,
}
