use sea_orm::entity::prelude::*;

/// A POST carrying an `Idempotency-Key`, stored in the same transaction as
/// its work: the record it made or changed and the status it answered, never
/// the record's content (a replay renders the record as it is now).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_record")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub staff_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub request_hash: String,
    pub record_type: String,
    pub record_id: Uuid,
    pub status: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
