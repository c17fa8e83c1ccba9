use sea_orm::entity::prelude::*;

/// How many distinct patrons one staff member accessed on one day (UTC),
/// with the events it took; kept by the audit writer for the anomaly views.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_reader_day")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub actor_id: Uuid,
    pub actor_role: Option<String>,
    pub patrons: i64,
    pub events: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_at: String,
    pub last_at: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
