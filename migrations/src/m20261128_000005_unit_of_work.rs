//! One unit of work per operation: a change log in commit order, team
//! memberships that end instead of vanishing, idempotency keys that store the
//! record they made (not its content), and the patron ids of everything a
//! list or search disclosed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Every create, update, state change and visibility change, numbered
        // in commit order by the single writer.
        m.create_table(
            Table::create()
                .table(ChangeLog::Table)
                .col(big_integer(ChangeLog::Seq).primary_key())
                .col(string_len(ChangeLog::Kind, 32))
                .col(uuid(ChangeLog::RecordId))
                .col(string_len(ChangeLog::ChangedAt, 32))
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(CaseMember::Table)
                .add_column(timestamp_with_time_zone_null(CaseMember::EndedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(CaseMember::Table)
                .add_column(uuid_null(CaseMember::EndedBy))
                .to_owned(),
        )
        .await?;

        // Stored answers held record content; keys last 24 hours, so the old
        // rows are simply dropped.
        m.drop_table(Table::drop().table(IdempotencyRecord::Table).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(IdempotencyRecord::Table)
                .col(uuid(IdempotencyRecord::StaffId))
                .col(string_len(IdempotencyRecord::Key, 200))
                .col(string_len(IdempotencyRecord::RequestHash, 64))
                .col(string_len(IdempotencyRecord::RecordType, 32))
                .col(uuid(IdempotencyRecord::RecordId))
                .col(integer(IdempotencyRecord::Status))
                .col(timestamp_with_time_zone(IdempotencyRecord::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyRecord::StaffId)
                        .col(IdempotencyRecord::Key),
                )
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(AuditEvent::Table)
                .add_column(text(AuditEvent::PatronIds).default("[]"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditEventPatron::Table)
                .col(uuid(AuditEventPatron::PatronId))
                .col(big_integer(AuditEventPatron::Seq))
                .primary_key(
                    Index::create()
                        .col(AuditEventPatron::PatronId)
                        .col(AuditEventPatron::Seq),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditEventPatron::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(AuditEvent::Table)
                .drop_column(AuditEvent::PatronIds)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(IdempotencyRecord::Table).to_owned())
            .await?;
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
        // Ended memberships were deletions before this change.
        m.exec_stmt(
            Query::delete()
                .from_table(CaseMember::Table)
                .and_where(Expr::col(CaseMember::EndedAt).is_not_null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(CaseMember::Table)
                .drop_column(CaseMember::EndedBy)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(CaseMember::Table)
                .drop_column(CaseMember::EndedAt)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(ChangeLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    Seq,
    Kind,
    RecordId,
    ChangedAt,
}

#[derive(DeriveIden)]
enum CaseMember {
    Table,
    EndedAt,
    EndedBy,
}

#[derive(DeriveIden)]
enum IdempotencyRecord {
    Table,
    StaffId,
    Key,
    RequestHash,
    RecordType,
    RecordId,
    Status,
    Etag,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    PatronIds,
}

#[derive(DeriveIden)]
enum AuditEventPatron {
    Table,
    PatronId,
    Seq,
}
