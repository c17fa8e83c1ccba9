//! What the auditors' anomaly views read instead of the whole trail, kept
//! by the audit writer in the same commit as the events: for each staff
//! member and day, how many distinct patrons they accessed (and the events
//! it took); and flags on the events each other view lists (refusals,
//! failed sign-ins, an access to a patron whose home branch was not one of
//! the actor's branches at that moment), with what the view groups them
//! by, so that a view reads its few flags and not the whole trail. The
//! patrons an event disclosed now include its own patron, so one index
//! answers "every event about this patron".
//!
//! Events already in the trail are rolled up by the service at its next
//! start (`audit_rollup_backfill` says which), with the writer's own code.

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
                .table(AuditReaderDay::Table)
                .col(string_len(AuditReaderDay::Day, 10))
                .col(uuid(AuditReaderDay::ActorId))
                .col(string_len_null(AuditReaderDay::ActorRole, 32))
                .col(big_integer(AuditReaderDay::Patrons))
                .col(big_integer(AuditReaderDay::Events))
                .col(big_integer(AuditReaderDay::FirstSeq))
                .col(big_integer(AuditReaderDay::LastSeq))
                .col(string_len(AuditReaderDay::FirstAt, 32))
                .col(string_len(AuditReaderDay::LastAt, 32))
                .primary_key(
                    Index::create()
                        .col(AuditReaderDay::Day)
                        .col(AuditReaderDay::ActorId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditReaderDayPatron::Table)
                .col(string_len(AuditReaderDayPatron::Day, 10))
                .col(uuid(AuditReaderDayPatron::ActorId))
                .col(uuid(AuditReaderDayPatron::PatronId))
                .primary_key(
                    Index::create()
                        .col(AuditReaderDayPatron::Day)
                        .col(AuditReaderDayPatron::ActorId)
                        .col(AuditReaderDayPatron::PatronId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditFlag::Table)
                .col(string_len(AuditFlag::Kind, 32))
                .col(big_integer(AuditFlag::Seq))
                .col(uuid(AuditFlag::EventId))
                .col(string_len_null(AuditFlag::Key, 64))
                .col(string_len_null(AuditFlag::ActorRole, 32))
                .col(string_len(AuditFlag::RecordedAt, 32))
                .primary_key(Index::create().col(AuditFlag::Kind).col(AuditFlag::Seq))
                .to_owned(),
        )
        .await?;
        // Covering: a view reads its flags from the index alone.
        m.create_index(
            Index::create()
                .name("ix_audit_flag_kind_time")
                .table(AuditFlag::Table)
                .col(AuditFlag::Kind)
                .col(AuditFlag::RecordedAt)
                .col(AuditFlag::Key)
                .col(AuditFlag::Seq)
                .col(AuditFlag::EventId)
                .col(AuditFlag::ActorRole)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditRollupBackfill::Table)
                .col(integer(AuditRollupBackfill::Id).primary_key())
                .col(big_integer(AuditRollupBackfill::NextSeq))
                .col(big_integer(AuditRollupBackfill::LastSeq))
                .to_owned(),
        )
        .await?;
        // The events already in the trail: rolled up at the next start.
        m.exec_stmt(
            Query::insert()
                .into_table(AuditRollupBackfill::Table)
                .columns([
                    AuditRollupBackfill::Id,
                    AuditRollupBackfill::NextSeq,
                    AuditRollupBackfill::LastSeq,
                ])
                .select_from(
                    Query::select()
                        .expr(Expr::val(1))
                        .expr(Expr::col(AuditEvent::Seq).min())
                        .expr(Expr::col(AuditEvent::Seq).max())
                        .from(AuditEvent::Table)
                        .and_having(Expr::col(AuditEvent::Seq).count().gt(0))
                        .to_owned(),
                )
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .to_owned(),
        )
        .await?;
        // An event's own patron joins the patrons it disclosed.
        m.exec_stmt(
            Query::insert()
                .into_table(AuditEventPatron::Table)
                .columns([AuditEventPatron::PatronId, AuditEventPatron::Seq])
                .select_from(
                    Query::select()
                        .column(AuditEvent::PatronId)
                        .column(AuditEvent::Seq)
                        .from(AuditEvent::Table)
                        .and_where(Expr::col(AuditEvent::PatronId).is_not_null())
                        .to_owned(),
                )
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .on_conflict(
                    OnConflict::columns([AuditEventPatron::PatronId, AuditEventPatron::Seq])
                        .do_nothing()
                        .to_owned(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AuditRollupBackfill::Table.into_iden(),
            AuditFlag::Table.into_iden(),
            AuditReaderDayPatron::Table.into_iden(),
            AuditReaderDay::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Seq,
    PatronId,
}

#[derive(DeriveIden)]
enum AuditEventPatron {
    Table,
    PatronId,
    Seq,
}

#[derive(DeriveIden)]
enum AuditReaderDay {
    Table,
    Day,
    ActorId,
    ActorRole,
    Patrons,
    Events,
    FirstSeq,
    LastSeq,
    FirstAt,
    LastAt,
}

#[derive(DeriveIden)]
enum AuditReaderDayPatron {
    Table,
    Day,
    ActorId,
    PatronId,
}

#[derive(DeriveIden)]
enum AuditFlag {
    Table,
    Kind,
    Seq,
    EventId,
    Key,
    ActorRole,
    RecordedAt,
}

#[derive(DeriveIden)]
enum AuditRollupBackfill {
    Table,
    Id,
    NextSeq,
    LastSeq,
}
