use sea_orm::entity::prelude::*;

/// A patron an audit event is about: its own patron, and those a list or
/// search disclosed; indexed so that an accounting of disclosures finds
/// every event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event_patron")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub patron_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::audit_event::Entity",
        from = "Column::Seq",
        to = "super::audit_event::Column::Seq"
    )]
    AuditEvent,
}

impl ActiveModelBehavior for ActiveModel {}
