use sea_orm::entity::prelude::*;

/// A patron whose record an audit event disclosed (lists and searches name
/// many); indexed so that an accounting of disclosures finds every event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event_patron")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub patron_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
