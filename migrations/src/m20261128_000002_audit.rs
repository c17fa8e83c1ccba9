//! The audit trail and the failed-login throttle.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `seq` orders the hash chain; it is assigned by the recorder under
        // the chain lock, so a gap means a deleted row.
        m.create_table(
            Table::create()
                .table(AuditEvent::Table)
                .col(big_integer(AuditEvent::Seq).primary_key())
                .col(uuid_uniq(AuditEvent::Id))
                .col(string_len(AuditEvent::RecordedAt, 32))
                .col(string_len_null(AuditEvent::OccurredAt, 32))
                .col(uuid_null(AuditEvent::ActorId))
                .col(string_len_null(AuditEvent::ActorRole, 32))
                .col(text(AuditEvent::ActorBranches))
                .col(uuid_null(AuditEvent::SessionId))
                .col(string_len_null(AuditEvent::RequestId, 64))
                .col(string_len_null(AuditEvent::ClientAddr, 64))
                .col(string_len(AuditEvent::Action, 32))
                .col(string_len_null(AuditEvent::RecordType, 32))
                .col(uuid_null(AuditEvent::RecordId))
                .col(uuid_null(AuditEvent::PatronId))
                .col(string_len(AuditEvent::Outcome, 16))
                .col(string_len(AuditEvent::Rule, 64))
                .col(string_len_null(AuditEvent::Purpose, 64))
                .col(text(AuditEvent::Fields))
                .col(text_null(AuditEvent::Query))
                .col(text(AuditEvent::ResultIds))
                .col(string_len(AuditEvent::PrevHash, 64))
                .col(string_len(AuditEvent::Hash, 64))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_audit_actor", vec![AuditEvent::ActorId, AuditEvent::Seq]),
            (
                "ix_audit_record",
                vec![AuditEvent::RecordId, AuditEvent::Seq],
            ),
            (
                "ix_audit_patron",
                vec![AuditEvent::PatronId, AuditEvent::Seq],
            ),
            ("ix_audit_recorded_at", vec![AuditEvent::RecordedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvent::Table);
            for c in cols {
                index.col(c);
            }
            m.create_index(index.to_owned()).await?;
        }

        // Failed sign-ins per account and per client address, shared by every
        // instance through the database.
        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .col(string_len(LoginThrottle::Key, 200).primary_key())
                .col(integer(LoginThrottle::Failures))
                .col(timestamp_with_time_zone(LoginThrottle::FirstFailureAt))
                .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginThrottle::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Seq,
    Id,
    RecordedAt,
    OccurredAt,
    ActorId,
    ActorRole,
    ActorBranches,
    SessionId,
    RequestId,
    ClientAddr,
    Action,
    RecordType,
    RecordId,
    PatronId,
    Outcome,
    Rule,
    Purpose,
    Fields,
    Query,
    ResultIds,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    FirstFailureAt,
    LockedUntil,
}
