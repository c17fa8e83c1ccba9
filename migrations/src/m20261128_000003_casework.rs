//! Casework records: patrons, contacts, cases and their teams, notes,
//! consents, follow-ups; and stored responses for idempotent retries.
//! None of these tables has a key to or from the safety domain.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    i.to_owned()
}

macro_rules! cols {
    ($($c:expr),+ $(,)?) => { vec![$($c.into_iden()),+] };
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Patron::Table)
                .col(uuid(Patron::Id).primary_key())
                .col(string_len(Patron::PreferredName, 100))
                .col(string_len_null(Patron::LegalName, 200))
                .col(integer_null(Patron::BirthYear))
                .col(date_null(Patron::BirthDate))
                .col(string_len_null(Patron::Language, 35))
                .col(string_len_null(Patron::ContactPreference, 16))
                .col(boolean(Patron::DoNotContact))
                .col(uuid(Patron::HomeBranchId))
                .col(integer(Patron::Version))
                .col(uuid(Patron::CreatedBy))
                .col(timestamp_with_time_zone(Patron::CreatedAt))
                .col(timestamp_with_time_zone(Patron::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Patron::Table, Patron::HomeBranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Patron::Table, Patron::CreatedBy)
                        .to(Staff::Table, Staff::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_patron_branch",
            Patron::Table,
            cols![Patron::HomeBranchId, Patron::Id],
        ))
        .await?;
        m.create_index(index(
            "ix_patron_created_by",
            Patron::Table,
            cols![Patron::CreatedBy, Patron::Id],
        ))
        .await?;

        // Normalised words of a patron's names (lowercase, accents removed),
        // for prefix search with an index range scan.
        m.create_table(
            Table::create()
                .table(PatronNameKey::Table)
                .col(string_len(PatronNameKey::Key, 200))
                .col(uuid(PatronNameKey::PatronId))
                .primary_key(
                    Index::create()
                        .col(PatronNameKey::Key)
                        .col(PatronNameKey::PatronId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PatronNameKey::Table, PatronNameKey::PatronId)
                        .to(Patron::Table, Patron::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_patron_name_key_patron",
            PatronNameKey::Table,
            cols![PatronNameKey::PatronId],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Contact::Table)
                .col(uuid(Contact::Id).primary_key())
                .col(uuid(Contact::WorkerId))
                .col(uuid(Contact::BranchId))
                .col(uuid_null(Contact::PatronId))
                .col(string_len(Contact::OccurredAt, 32))
                .col(timestamp_with_time_zone(Contact::RecordedAt))
                .col(integer_null(Contact::DurationMinutes))
                .col(string_len(Contact::Kind, 16))
                .col(text(Contact::Needs))
                .col(text(Contact::ServicesGiven))
                .col(text_null(Contact::Note))
                .col(integer(Contact::Version))
                .col(timestamp_with_time_zone(Contact::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Contact::Table, Contact::WorkerId)
                        .to(Staff::Table, Staff::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Contact::Table, Contact::BranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Contact::Table, Contact::PatronId)
                        .to(Patron::Table, Patron::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_contact_worker",
            Contact::Table,
            cols![Contact::WorkerId, Contact::OccurredAt, Contact::Id],
        ))
        .await?;
        m.create_index(index(
            "ix_contact_patron",
            Contact::Table,
            cols![Contact::PatronId, Contact::OccurredAt],
        ))
        .await?;
        m.create_index(index(
            "ix_contact_branch",
            Contact::Table,
            cols![Contact::BranchId, Contact::OccurredAt],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CaseFile::Table)
                .col(uuid(CaseFile::Id).primary_key())
                .col(uuid(CaseFile::PatronId))
                .col(uuid(CaseFile::OwnerId))
                .col(uuid(CaseFile::BranchId))
                .col(string_len(CaseFile::Status, 16))
                .col(text_null(CaseFile::Summary))
                .col(timestamp_with_time_zone(CaseFile::OpenedAt))
                .col(timestamp_with_time_zone_null(CaseFile::ClosedAt))
                .col(string_len_null(CaseFile::StatusReason, 500))
                .col(string_len(CaseFile::LastActivityAt, 32))
                .col(integer(CaseFile::Version))
                .col(uuid(CaseFile::CreatedBy))
                .col(timestamp_with_time_zone(CaseFile::CreatedAt))
                .col(timestamp_with_time_zone(CaseFile::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseFile::Table, CaseFile::PatronId)
                        .to(Patron::Table, Patron::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseFile::Table, CaseFile::OwnerId)
                        .to(Staff::Table, Staff::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseFile::Table, CaseFile::BranchId)
                        .to(Branch::Table, Branch::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_case_patron",
            CaseFile::Table,
            cols![CaseFile::PatronId],
        ))
        .await?;
        m.create_index(index(
            "ix_case_owner",
            CaseFile::Table,
            cols![
                CaseFile::OwnerId,
                CaseFile::Status,
                CaseFile::LastActivityAt
            ],
        ))
        .await?;
        m.create_index(index(
            "ix_case_branch",
            CaseFile::Table,
            cols![CaseFile::BranchId, CaseFile::Status],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CaseMember::Table)
                .col(uuid(CaseMember::CaseId))
                .col(uuid(CaseMember::StaffId))
                .col(uuid(CaseMember::AddedBy))
                .col(timestamp_with_time_zone(CaseMember::AddedAt))
                .primary_key(
                    Index::create()
                        .col(CaseMember::CaseId)
                        .col(CaseMember::StaffId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseMember::Table, CaseMember::CaseId)
                        .to(CaseFile::Table, CaseFile::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseMember::Table, CaseMember::StaffId)
                        .to(Staff::Table, Staff::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_case_member_staff",
            CaseMember::Table,
            cols![CaseMember::StaffId, CaseMember::CaseId],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CaseNote::Table)
                .col(uuid(CaseNote::Id).primary_key())
                .col(uuid(CaseNote::CaseId))
                .col(uuid(CaseNote::AuthorId))
                .col(string_len(CaseNote::Sensitivity, 16))
                .col(text(CaseNote::Body))
                .col(uuid_null(CaseNote::AmendsNoteId))
                .col(string_len(CaseNote::OccurredAt, 32))
                .col(timestamp_with_time_zone(CaseNote::RecordedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseNote::Table, CaseNote::CaseId)
                        .to(CaseFile::Table, CaseFile::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseNote::Table, CaseNote::AuthorId)
                        .to(Staff::Table, Staff::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseNote::Table, CaseNote::AmendsNoteId)
                        .to(CaseNote::Table, CaseNote::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_case_note_case",
            CaseNote::Table,
            cols![CaseNote::CaseId, CaseNote::Sensitivity, CaseNote::Id],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Consent::Table)
                .col(uuid(Consent::Id).primary_key())
                .col(uuid(Consent::PatronId))
                .col(string_len(Consent::Recipient, 200))
                .col(string_len(Consent::RecipientKey, 200))
                .col(string_len(Consent::Scope, 1000))
                .col(string_len(Consent::Purpose, 1000))
                .col(string_len(Consent::Method, 16))
                .col(string_len(Consent::GivenAt, 32))
                .col(string_len_null(Consent::ExpiresAt, 32))
                .col(timestamp_with_time_zone_null(Consent::RevokedAt))
                .col(uuid_null(Consent::RevokedBy))
                .col(integer(Consent::Version))
                .col(uuid(Consent::CreatedBy))
                .col(timestamp_with_time_zone(Consent::RecordedAt))
                .col(timestamp_with_time_zone(Consent::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Consent::Table, Consent::PatronId)
                        .to(Patron::Table, Patron::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_consent_patron",
            Consent::Table,
            cols![Consent::PatronId, Consent::RecipientKey],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(FollowUp::Table)
                .col(uuid(FollowUp::Id).primary_key())
                .col(uuid_null(FollowUp::CaseId))
                .col(uuid_null(FollowUp::ContactId))
                .col(uuid_null(FollowUp::PatronId))
                .col(uuid(FollowUp::BranchId))
                .col(uuid(FollowUp::AssignedTo))
                .col(date(FollowUp::DueOn))
                .col(string_len_null(FollowUp::Note, 500))
                .col(string_len(FollowUp::Status, 16))
                .col(timestamp_with_time_zone_null(FollowUp::DoneAt))
                .col(uuid_null(FollowUp::DoneBy))
                .col(integer(FollowUp::Version))
                .col(uuid(FollowUp::CreatedBy))
                .col(timestamp_with_time_zone(FollowUp::CreatedAt))
                .col(timestamp_with_time_zone(FollowUp::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(FollowUp::Table, FollowUp::CaseId)
                        .to(CaseFile::Table, CaseFile::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FollowUp::Table, FollowUp::ContactId)
                        .to(Contact::Table, Contact::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_follow_up_assignee",
            FollowUp::Table,
            cols![
                FollowUp::AssignedTo,
                FollowUp::Status,
                FollowUp::DueOn,
                FollowUp::Id
            ],
        ))
        .await?;
        m.create_index(index(
            "ix_follow_up_case",
            FollowUp::Table,
            cols![FollowUp::CaseId, FollowUp::Status, FollowUp::DueOn],
        ))
        .await?;
        m.create_index(index(
            "ix_follow_up_branch",
            FollowUp::Table,
            cols![FollowUp::BranchId, FollowUp::Status, FollowUp::DueOn],
        ))
        .await?;

        // A retried POST with the same Idempotency-Key gets the first answer.
        m.create_table(
            Table::create()
                .table(IdempotencyRecord::Table)
                .col(uuid(IdempotencyRecord::StaffId))
                .col(string_len(IdempotencyRecord::Key, 200))
                .col(string_len(IdempotencyRecord::RequestHash, 64))
                .col(integer_null(IdempotencyRecord::Status))
                .col(string_len_null(IdempotencyRecord::Etag, 64))
                .col(text_null(IdempotencyRecord::Body))
                .col(timestamp_with_time_zone(IdempotencyRecord::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyRecord::StaffId)
                        .col(IdempotencyRecord::Key),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_idempotency_created",
            IdempotencyRecord::Table,
            cols![IdempotencyRecord::CreatedAt],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            IdempotencyRecord::Table.into_iden(),
            FollowUp::Table.into_iden(),
            Consent::Table.into_iden(),
            CaseNote::Table.into_iden(),
            CaseMember::Table.into_iden(),
            CaseFile::Table.into_iden(),
            Contact::Table.into_iden(),
            PatronNameKey::Table.into_iden(),
            Patron::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Branch {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Patron {
    Table,
    Id,
    PreferredName,
    LegalName,
    BirthYear,
    BirthDate,
    Language,
    ContactPreference,
    DoNotContact,
    HomeBranchId,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PatronNameKey {
    Table,
    Key,
    PatronId,
}

#[derive(DeriveIden)]
enum Contact {
    Table,
    Id,
    WorkerId,
    BranchId,
    PatronId,
    OccurredAt,
    RecordedAt,
    DurationMinutes,
    Kind,
    Needs,
    ServicesGiven,
    Note,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseFile {
    Table,
    Id,
    PatronId,
    OwnerId,
    BranchId,
    Status,
    Summary,
    OpenedAt,
    ClosedAt,
    StatusReason,
    LastActivityAt,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseMember {
    Table,
    CaseId,
    StaffId,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum CaseNote {
    Table,
    Id,
    CaseId,
    AuthorId,
    Sensitivity,
    Body,
    AmendsNoteId,
    OccurredAt,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Consent {
    Table,
    Id,
    PatronId,
    Recipient,
    RecipientKey,
    Scope,
    Purpose,
    Method,
    GivenAt,
    ExpiresAt,
    RevokedAt,
    RevokedBy,
    Version,
    CreatedBy,
    RecordedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FollowUp {
    Table,
    Id,
    CaseId,
    ContactId,
    PatronId,
    BranchId,
    AssignedTo,
    DueOn,
    Note,
    Status,
    DoneAt,
    DoneBy,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyRecord {
    Table,
    StaffId,
    Key,
    RequestHash,
    Status,
    Etag,
    Body,
    CreatedAt,
}
