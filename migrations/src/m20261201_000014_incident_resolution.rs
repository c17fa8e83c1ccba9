//! How an incident was resolved: the resolution path, whether police were
//! called and how long after a de-escalation was tried, and the rule of
//! behavior involved. (Responders keep their role at the time and whether
//! they held a current de-escalation certification, in `responders`.)

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for col in [
            string_len_null(Incident::Resolution, 40),
            boolean(Incident::PoliceCalled).default(false).to_owned(),
            integer_null(Incident::MinutesBeforePolice),
            uuid_null(Incident::RuleId),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(Incident::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ix_incident_rule")
                .table(Incident::Table)
                .col(Incident::RuleId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_incident_rule")
                .table(Incident::Table)
                .to_owned(),
        )
        .await?;
        for col in [
            Incident::RuleId,
            Incident::MinutesBeforePolice,
            Incident::PoliceCalled,
            Incident::Resolution,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Incident::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Incident {
    Table,
    Resolution,
    PoliceCalled,
    MinutesBeforePolice,
    RuleId,
}
